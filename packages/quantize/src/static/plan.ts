/**
 * The placement plan of quantize-static: which nodes become quantized groups, which Relu/Clip fold
 * into their producer's output range, which activations get a QuantizeLinear, and for every other
 * candidate node the reason it stays float. Decided on the float model, before anything changes, so
 * calibration can run on that same model for exactly the tensors the plan names.
 *
 * Nodes are kept where ONNX Runtime fuses them (see op-rules.ts). A node that would only add a
 * Q/DQ pair is dropped: an `own-range` or `shares-input` op is kept only when a quantized op
 * produces one of its inputs and a quantized op reads its output (a greatest fixed point: start with
 * every eligible node, remove those that fail, repeat).
 */
import type { Graph, Node, Value } from '@modelpass/ir';
import { cheaperFloat } from './cost-rules.js';
import { hasConstantData, ineligibility } from './eligibility.js';
import { COMPOSITE_KERNELS, findComposites, headSplitProjections, type Composite } from './composites.js';
import { ruleOf, setNodeRule, type OpRule } from './op-rules.js';
import type { ReorderedPool } from './pool-before-activation.js';
import type { SplitHardSwish } from './hard-swish-split.js';
import type { MergedGroupedConv } from './grouped-conv-merge.js';

export interface PlanOptions {
  /** Node names and op types (`Conv`, `onnx.Conv`) left float. */
  readonly exclude: readonly string[];
  /** Whether Relu/Clip can fold into the producer's range (activations asymmetric: zero point = dtype minimum). */
  readonly fuseActivations: boolean;
  /** Non-grouped Convs with a smaller reduction whose input is float anyway stay float (cost-rules.ts); 0 turns the rule off. */
  readonly minConvReduction: number;
  /**
   * Graph outputs computed by quantized ops are quantized too (a QuantizeLinear → DequantizeLinear before the
   * float output, its range calibrated like any activation): a MatMul/Gemm feeding a graph output gets an integer
   * output, and own-range/shares-input ops and Relu/Clip may produce graph outputs. Default false (ORT's QGemm
   * with a float output is faster; a full-integer target such as TFLite needs it).
   */
  readonly quantizeOutputs?: boolean;
  /** An Add/Mul/Concat may read a float constant (a bias, a LayerNorm scale, a class token), stored quantized with its own per-tensor range (full-integer). */
  readonly quantizeConstantOperands?: boolean;
  /** full-integer: FULL_INTEGER_RULES (Sub, ReduceMean, Tanh) and composites (erf-GELU, 1/√x; composites.ts) are planned too. */
  readonly fullIntegerRules?: boolean;
  /** full-integer with 8-bit asymmetric activations: a Softmax (Tanh) output takes TFLite's int8 SOFTMAX (TANH) parameters (1/256 at the dtype's minimum; 1/128 at 0) instead of a calibrated range. */
  readonly fixedSoftmaxRange?: boolean;
}

/** One activation value of the final graph that gets a quant<> type. */
export interface ActivationPlan {
  /** The value (of the float model; for a folded activation, the producer's output, which replaces it). */
  readonly value: Value;
  /** Whose parameters it takes: its own calibrated range, or the input of a shares-input op. */
  readonly source:
    | { readonly kind: 'range'; readonly tensor: string }
    | { readonly kind: 'shared'; readonly from: Value }
    | { readonly kind: 'constant' }
    /** A range fixed by the target's int8 kernel, not calibrated (full-integer Softmax: [0, 255/256], TFLite's 1/256 and zero point −128). */
    | { readonly kind: 'fixed'; readonly range: { readonly min: number; readonly max: number } };
  /** A float-produced value (or graph input) gets an explicit QuantizeLinear read only by quantized nodes; float readers keep the float value. */
  readonly entry: boolean;
}

export interface LeftFloat {
  readonly node: string;
  readonly op: string;
  readonly reason: string;
  /** The quantize-static option whose setting left it float (changing it would quantize the node), if one did. */
  readonly option?: 'exclude' | 'min-conv-reduction';
}

export interface QuantizationPlan {
  /** Quantized groups, in graph order. */
  readonly nodes: readonly Node[];
  /** Quantized nodes whose output gets a QuantizeLinear (MatMul/Gemm without one run as MatMulIntegerToFloat / QGemm with a float output). */
  readonly outputQuantized: ReadonlySet<Node>;
  /** Producer → the Relu/Clip folded into its output range. */
  readonly fusedActivations: ReadonlyMap<Node, Node>;
  readonly activations: readonly ActivationPlan[];
  /** Every node with a rule that stays float, and why. */
  readonly leftFloat: readonly LeftFloat[];
  /** Op types with no integer kernel in ORT (left float), with counts. */
  readonly unsupportedOps: ReadonlyMap<string, number>;
  /** The nodes behind `unsupportedOps` (float32 outputs, no rule here), by name, in graph order. */
  readonly unsupportedNodes: readonly { readonly node: string; readonly op: string }[];
  /** The tensors calibration must give ranges for (names in the float model). */
  readonly calibrationTensors: readonly string[];
  /** Float Relu/Clip → MaxPool pairs run as MaxPool → Relu/Clip so ORT keeps the MaxPool float (pool-before-activation.ts). */
  readonly reorderedPools: readonly ReorderedPool[];
  /** HardSwish nodes between quantized ops spelled `x · HardSigmoid(x)` (hard-swish-split.ts). */
  readonly splitHardSwishes: readonly SplitHardSwish[];
  /** Grouped Convs with narrow groups merged into fewer, wider groups (grouped-conv-merge.ts). */
  readonly mergedGroupedConvs: readonly MergedGroupedConv[];
  /** full-integer: patterns quantized at their input and output only, float inside (composites.ts). */
  readonly composites?: readonly Composite[];
  /** full-integer: MatMuls whose weights are quantized per tensor (attention head-split projections, composites.ts). */
  readonly perTensorWeights?: ReadonlySet<Node>;
}

function excluded(node: Node, exclude: readonly string[]): boolean {
  return exclude.some((entry) => entry === node.name || entry === node.op || `onnx.${entry}` === node.op);
}

class Planner {
  readonly quantized = new Set<Node>();
  readonly reasons = new Map<Node, string>();
  /** Nodes an option's setting left float (exclude=, min-conv-reduction). */
  readonly leftByOption = new Map<Node, NonNullable<LeftFloat['option']>>();
  /** The float nodes inside composites (neither planned nor reported as left float). */
  readonly insideComposites = new Set<Node>();
  readonly composites: Composite[] = [];

  constructor(
    readonly graph: Graph,
    readonly options: PlanOptions,
  ) {}

  rule(node: Node | null | undefined): OpRule | undefined {
    return node ? ruleOf(node, this.options.fullIntegerRules ?? false) : undefined;
  }

  /**
   * A Relu/Clip that can fold into its producer: the producer is a quantized weighted/own-range node
   * whose output only the activation reads, and neither output is a graph output.
   */
  foldableActivation(node: Node | null | undefined): Node | undefined {
    if (!node || !this.options.fuseActivations || this.rule(node)?.role !== 'fused-activation' || this.reasons.has(node)) return undefined;
    const input = node.inputs[0];
    const producer = input?.producer;
    if (!input || !producer || !this.quantized.has(producer)) return undefined;
    const role = this.rule(producer)!.role;
    if (role !== 'weighted' && role !== 'own-range') return undefined;
    if (input.uses.size !== 1 || input.isGraphOutput || (node.output(0).isGraphOutput && !this.options.quantizeOutputs)) return undefined;
    return producer;
  }

  /** The quantized node whose output this value carries (through a foldable activation), if any. */
  quantizedSource(value: Value | null | undefined): Node | undefined {
    const producer = value?.producer;
    if (!producer) return undefined;
    const source = this.quantized.has(producer) ? producer : this.foldableActivation(producer);
    // A MatMul/Gemm whose output gets no QuantizeLinear (a graph output) gives its readers floats.
    return source && this.quantizesOutput(source) ? source : undefined;
  }

  /** Whether a quantized node reads `value` as an activation (directly, or through a foldable activation). */
  readByQuantized(value: Value, depth = 0): boolean {
    // quantize-outputs: a graph output is read as integers (QuantizeLinear → DequantizeLinear before it).
    if (this.options.quantizeOutputs && value.isGraphOutput) return true;
    for (const use of value.uses) {
      const user = use.node;
      if (!user) continue;
      if (this.quantized.has(user) && this.rule(user)!.activationInputs(user).includes(use.index)) return true;
      if (depth === 0 && this.foldableActivation(user) && this.readByQuantized(user.output(0), 1)) return true;
    }
    return false;
  }

  /** The value that carries a node's (possibly activation-folded) output in the final graph, and its last float name. */
  finalOutput(node: Node): { value: Value; tensor: string; activation?: Node } {
    const output = node.output(0);
    const users = [...output.uses].map((use) => use.node).filter((user): user is Node => !!user);
    if (users.length === 1 && this.foldableActivation(users[0]) === node) return { value: output, tensor: users[0]!.output(0).name, activation: users[0]! };
    return { value: output, tensor: output.name };
  }

  /** Whether a weighted node's output gets a QuantizeLinear: always for Conv, for MatMul/Gemm only when a quantized op (or, with quantize-outputs, a graph output) reads it. */
  quantizesOutput(node: Node): boolean {
    const role = this.rule(node)!.role;
    // A composite's entry computes a float value inside the pattern.
    if (role === 'composite') return false;
    if (role !== 'weighted' || node.op === 'onnx.Conv' || node.op === 'onnx.ConvTranspose') return true;
    const { value, activation } = this.finalOutput(node);
    if (!this.options.quantizeOutputs && (value.isGraphOutput || activation?.output(0).isGraphOutput)) return false;
    return this.readByQuantized(activation ? activation.output(0) : value);
  }

  seed(): void {
    if (this.options.fullIntegerRules) {
      for (const composite of findComposites(this.graph)) {
        if (excluded(composite.entry, this.options.exclude) || composite.inner.some((node) => excluded(node, this.options.exclude))) continue;
        this.composites.push(composite);
        for (const node of composite.inner) this.insideComposites.add(node);
        const index = composite.inputIndex;
        setNodeRule(composite.entry, { role: 'composite', activationInputs: () => [index], kernel: COMPOSITE_KERNELS[composite.kind] });
      }
    }
    for (const node of this.graph.nodes()) {
      if (this.insideComposites.has(node)) continue;
      const rule = this.rule(node);
      if (!rule) continue;
      if (excluded(node, this.options.exclude)) {
        this.reasons.set(node, 'excluded by exclude=');
        this.leftByOption.set(node, 'exclude');
        continue;
      }
      let reason = ineligibility(node, rule, this.options.quantizeOutputs, this.options.quantizeConstantOperands);
      if (!reason && node.op === 'onnx.Conv' && node.output(0).isGraphOutput && !this.options.quantizeOutputs) reason = 'its output is a graph output, and ORT fuses Conv only with a QuantizeLinear on its output';
      if (!reason) {
        reason = cheaperFloat(node, this.options.minConvReduction);
        if (reason) this.leftByOption.set(node, 'min-conv-reduction');
      }
      if (reason) this.reasons.set(node, reason);
      else if (rule.role !== 'fused-activation') this.quantized.add(node);
      else if (this.options.fullIntegerRules && (node.inputs[0]!.uses.size !== 1 || node.inputs[0]!.isGraphOutput)) {
        // full-integer: a Relu/Clip whose input has other readers cannot fold into its producer's range; it keeps a
        // range of its own (ORT runs DQ → Relu → Q in float, the same reals; TFLite RELU/RELU6 int8).
        setNodeRule(node, { role: 'own-range', activationInputs: () => [0], kernel: `DQ → ${node.opType} → Q (float in ORT; TFLite int8)` });
        this.quantized.add(node);
      }
    }
  }

  /** Removes own-range and shares-input nodes that would only add Q/DQ pairs, to a fixed point. */
  prune(): void {
    for (let changed = true; changed; ) {
      changed = false;
      for (const node of [...this.quantized]) {
        const rule = this.rule(node)!;
        // A composite's entry quantizes its input whatever produces it, like a weighted op (full-integer only).
        if (rule.role === 'weighted' || rule.role === 'composite') continue;
        const inputs = rule.activationInputs(node).map((i) => node.inputs[i]);
        // full-integer: a graph input counts as quantized (its QuantizeLinear is the model's first op; io-type=int8 takes it as
        // the int8 input), so data movement right after it (torch's x.unsqueeze(1), a Reshape) runs on integers too.
        const quantizedInput = (input: Value | null | undefined) => !!this.quantizedSource(input) || (!!this.options.fullIntegerRules && !!input?.isGraphInput);
        // full-integer: a float constant table a Gather reads (an embedding) is quantized on its own range.
        const fed = rule.role === 'shares-input' ? quantizedInput(inputs[0]) || (!!this.options.quantizeConstantOperands && hasConstantData(node)) : inputs.some(quantizedInput);
        const reason = !fed
          ? rule.role === 'shares-input'
            ? 'its input does not come from a quantized op (it would only add a Q/DQ pair)'
            : 'none of its inputs comes from a quantized op (it would only add Q/DQ pairs)'
          : !this.readByQuantized(this.finalOutput(node).activation?.output(0) ?? node.output(0))
            ? 'no quantized op reads its output (it would only add a Q/DQ pair)'
            : undefined;
        if (reason) {
          this.quantized.delete(node);
          this.reasons.set(node, reason);
          changed = true;
        }
      }
    }
  }
}

/** Plans quantize-static on the main graph of a float model (types inferred). */
export function planQuantization(graph: Graph, options: PlanOptions): QuantizationPlan {
  const planner = new Planner(graph, options);
  planner.seed();
  planner.prune();

  const fusedActivations = new Map<Node, Node>();
  const activations: ActivationPlan[] = [];
  const planned = new Map<Value, ActivationPlan>();
  const plan = (entry: ActivationPlan) => {
    if (planned.has(entry.value)) return;
    planned.set(entry.value, entry);
    activations.push(entry);
  };
  const nodes = [...graph.nodes()].filter((node) => planner.quantized.has(node));
  const outputQuantized = new Set<Node>();

  // Inputs first, in graph order, so a shares-input output finds its input planned.
  for (const node of nodes) {
    const rule = planner.rule(node)!;
    for (const index of rule.activationInputs(node)) {
      const input = node.inputs[index]!;
      const source = planner.quantizedSource(input);
      if (source) continue; // planned as that node's output
      plan({ value: input, source: input.constant !== undefined ? { kind: 'constant' } : { kind: 'range', tensor: input.name }, entry: true });
    }
    if (!planner.quantizesOutput(node)) continue;
    outputQuantized.add(node);
    const { value, tensor, activation } = planner.finalOutput(node);
    if (activation) fusedActivations.set(node, activation);
    if (rule.role === 'shares-input') {
      const from = node.inputs[0]!;
      const fromFinal = planner.quantizedSource(from) ? planner.finalOutput(planner.quantizedSource(from)!).value : from;
      plan({ value, source: { kind: 'shared', from: fromFinal }, entry: false });
    } else if (node.op === 'onnx.Softmax' && options.fixedSoftmaxRange) {
      // TFLite's int8 SOFTMAX writes scale 1/256, zero point −128 whatever the model says: the same here, so ORT's
      // integers are TFLite's and no requantization follows the SOFTMAX.
      plan({ value, source: { kind: 'fixed', range: { min: 0, max: 255 / 256 } }, entry: false });
    } else if (node.op === 'onnx.Tanh' && options.fixedSoftmaxRange) {
      // TFLite's int8 TANH writes scale 1/128, zero point 0 (uint8: 128): the same here, for the same reason.
      plan({ value, source: { kind: 'fixed', range: { min: -1, max: 127 / 128 } }, entry: false });
    } else {
      plan({ value, source: { kind: 'range', tensor }, entry: false });
    }
  }

  const leftFloat: LeftFloat[] = [];
  const unsupportedOps = new Map<string, number>();
  const unsupportedNodes: { node: string; op: string }[] = [];
  for (const node of graph.nodes()) {
    if (planner.quantized.has(node) || planner.insideComposites.has(node) || [...fusedActivations.values()].includes(node)) continue;
    const rule = planner.rule(node);
    const output = node.outputs[0];
    // Integer and shape computations (int64 Unsqueeze, Shape, …) are not candidates: nothing to report.
    if (!output || output.type.kind !== 'tensor' || output.type.dtype !== 'float32') continue;
    if (!rule) {
      unsupportedOps.set(node.opType, (unsupportedOps.get(node.opType) ?? 0) + 1);
      unsupportedNodes.push({ node: node.name, op: node.opType });
      continue;
    }
    const reason =
      planner.reasons.get(node) ??
      (rule.role === 'fused-activation'
        ? options.fuseActivations
          ? 'its producer is not a quantized op whose output only it reads'
          : 'symmetric activations cannot fold it (zero point is not the dtype minimum)'
        : 'not quantized');
    const option = planner.leftByOption.get(node);
    leftFloat.push({ node: node.name, op: node.opType, reason, ...(option ? { option } : {}) });
  }
  const calibrationTensors = [...new Set(activations.flatMap((a) => (a.source.kind === 'range' ? [a.source.tensor] : [])))];
  return { nodes, outputQuantized, fusedActivations, activations, leftFloat, unsupportedOps, unsupportedNodes, calibrationTensors, reorderedPools: [], splitHardSwishes: [], mergedGroupedConvs: [], composites: planner.composites, ...(options.fullIntegerRules ? { perTensorWeights: headSplitProjections(graph) } : {}) };
}
