/**
 * `convert-float16`: weights and computation in float16 (or bfloat16), with Cast nodes where
 * float32 and 16-bit data meet. What may switch comes from ONNX's type constraints (see
 * float16-policy.ts); the ops of `KEPT_FLOAT32_OPS` and the ops/nodes named in `keep` stay
 * float32; with `keep-io=true` (default) the graph's inputs and outputs stay float32 too, so callers
 * feed and read what they did before.
 *
 * Steps: infer types; plan each node; give switching outputs the 16-bit type and rewrite the
 * attributes that name a float type (Cast `to`, Constant and ConstantOfShape values, a
 * ConstantOfShape's default float32 zero made explicit); convert
 * constants read only at 16 bits (a 16-bit copy when float32 operands read them too); then insert
 * one Cast per value and direction wherever data crosses between the precisions.
 */
import { attrs, Builder, ModelpassError, Tensor, tensorType, type Model, type Node, type Use, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { closestName, definePass, option, type PassContext } from '@modelpass/pass-manager';
import { isFloat32, ortCrashGuard, planNode, type NodePlan, type Precision } from './float16-policy.js';
import { toHalfTensor, type HalfType } from './half-tensors.js';

const PASS = 'convert-float16';
const ONNX_CODE: Readonly<Record<HalfType | 'float32', number>> = { float32: 1, float16: 10, bfloat16: 16 };

const options = {
  type: option.enum(['float16', 'bfloat16'], { default: 'float16', help: '16-bit float type of weights and computation' }),
  keep: option.list(option.string({}), { default: [], help: 'op types (Softmax) or node names to keep float32' }),
  keepIo: option.boolean({ default: true, help: 'keep graph inputs and outputs float32 (Casts at the boundary)' }),
} as const;

type Options = typeof options;

export const convertFloat16 = definePass({
  name: PASS,
  summary: 'Convert weights and computation to float16 or bfloat16, with Casts at float32 boundaries',
  description:
    "Operands switch where ONNX's type constraints allow the 16-bit type; KEPT_FLOAT32_OPS, keep= and (keep-io=true) the graph inputs and outputs stay float32. Weights in external data are converted lazily while writing.",
  options,
  statistics: ['nodes-converted', 'nodes-kept', 'nodes-kept-for-ort', 'nodes-kept-for-range', 'constants-converted', 'casts-inserted', 'values-clamped'],
  run(model, context) {
    const { type, keepIo } = context.options;
    inferShapes(model, { registry: context.registry });
    const keep = new Set(context.options.keep);
    checkKeepNames(model, keep, context);
    const plans = new Map<Node, NodePlan>();
    const outOfRange = outOfRangeConstants(type);
    const keptForRange: string[] = [];
    for (const node of model.graph.nodes()) {
      const plan = planNode(node, type, model.opset('onnx'), keep);
      const guard = typeof plan !== 'string' ? ortCrashGuard(node) : undefined;
      const wide = typeof plan !== 'string' && guard === undefined ? outOfRange(node) : undefined;
      if (guard !== undefined) {
        context.statistic('nodes-kept');
        context.statistic('nodes-kept-for-ort');
        context.debug(`${node.name}: float32 (${guard})`);
      } else if (wide !== undefined) {
        context.statistic('nodes-kept');
        context.statistic('nodes-kept-for-range');
        keptForRange.push(`${node.opType} '${node.name}' (${wide})`);
        context.debug(`${node.name}: float32 (${wide})`);
      } else if (typeof plan !== 'string') plans.set(node, plan);
      else if (plan !== 'no float32 operand') {
        context.statistic('nodes-kept');
        context.debug(`${node.name}: float32 (${plan})`);
      }
    }
    if (keptForRange.length > 0) {
      context.report({
        severity: 'warning',
        source: '@modelpass/quantize',
        reason: `pass '${PASS}' kept ${keptForRange.length} node(s) float32 whose constants hold finite values beyond ${type}'s range (±${HALF_MAX[type].toPrecision(5)}), which ${type} would clamp: ${keptForRange.slice(0, 5).join('; ')}${keptForRange.length > 5 ? `; and ${keptForRange.length - 5} more` : ''}`,
        hint: 'a BatchNormalization with such statistics often follows a Conv: fuse-bn (or simplify) folds it into the Conv first',
      });
    }
    const needs = (use: Use): Precision => {
      if (use.isGraphOutput) return keepIo ? 'float32' : 'half';
      return plans.get(use.node!)?.inputs[use.index] ?? 'float32';
    };
    // A Constant node converts only for a 16-bit reader (as a constant initializer does): one read only at float32
    // (by a kept node) would otherwise round through 16 bits and back.
    for (const node of [...plans.keys()]) {
      if (node.opType === 'Constant' && node.outputs.every((output) => output === null || [...output.uses].every((use) => needs(use) === 'float32'))) {
        plans.delete(node);
        context.debug(`${node.name}: float32 (only float32 operands read it)`);
      }
    }
    if (plans.size === 0) {
      context.report({ severity: 'warning', source: '@modelpass/quantize', reason: `pass '${PASS}' found no node to convert to ${type}` });
      return context.preserveAll();
    }
    // Values whose data becomes 16-bit: switching outputs, and (keep-io=false) float32 graph inputs.
    const half = new Set<Value>();
    for (const [node, plan] of plans) {
      node.outputs.forEach((output, i) => plan.outputs[i] === 'half' && half.add(output!));
      rewriteTypeAttributes(node, type);
    }
    if (!keepIo) for (const input of model.graph.inputs) if (isFloat32(input) && !input.constant) half.add(input);
    for (const value of half) value.type = tensorType(type, value.type.kind === 'tensor' ? value.type.shape : null);
    context.statistic('nodes-converted', plans.size);
    convertConstants(model, needs, type, context);
    insertCasts(model, half, needs, type, context);
    if (type === 'bfloat16') {
      context.report({
        severity: 'warning',
        source: '@modelpass/quantize',
        reason: `pass '${PASS}' wrote bfloat16 computation, which ONNX Runtime's CPU provider cannot run (no bfloat16 kernels for most ops)`,
        hint: 'bfloat16 files are for runtimes with bfloat16 kernels (GPUs, NPUs); for ONNX Runtime on CPU use type=float16',
      });
    }
    return context.preserve(['topological-order']);
  },
});

/** The largest finite value of each 16-bit type. */
const HALF_MAX: Readonly<Record<HalfType, number>> = { float16: 65504, bfloat16: 3.3895313892515355e38 };

/**
 * Why a node must stay float32 for its constants, or undefined: a Constant node whose float32 value, or a node with a
 * float32 constant input (an initializer in memory, or a Constant node's output), holding a finite value beyond the
 * 16-bit type's range — converted, it would be clamped (PaddleOCR v4 det: BatchNormalization variances up to 9.8e7
 * clamped to 65504 turned the probability map's cosine to 0.02). File-backed initializers are not read here (they
 * convert lazily; their clamped values are counted in `values-clamped` only when in memory).
 */
function outOfRangeConstants(type: HalfType): (node: Node) => string | undefined {
  const limit = HALF_MAX[type];
  const cache = new Map<Value | Node, number>();
  const largest = (tensor: Tensor | undefined): number => {
    if (!tensor || tensor.dtype !== 'float32' || !tensor.isLoaded) return 0;
    let max = 0;
    for (const x of tensor.data() as Float32Array) if (Number.isFinite(x) && Math.abs(x) > max) max = Math.abs(x);
    return max;
  };
  const ofConstantNode = (node: Node): number => {
    let max = cache.get(node);
    if (max === undefined) {
      const value = node.getAttribute('value');
      const scalar = node.getAttribute('value_float');
      const list = node.getAttribute('value_floats');
      max = value?.kind === 'tensor' ? largest(value.value) : scalar?.kind === 'float' ? Math.abs(scalar.value) : list?.kind === 'floats' ? Math.max(0, ...list.value.filter(Number.isFinite).map(Math.abs)) : 0;
      cache.set(node, max);
    }
    return max;
  };
  const ofValue = (value: Value): number => {
    if (value.producer?.opType === 'Constant') return ofConstantNode(value.producer);
    if (!value.isConstant) return 0;
    let max = cache.get(value);
    if (max === undefined) cache.set(value, (max = largest(value.constant)));
    return max;
  };
  const describe = (name: string, max: number): string => `its constant '${name}' holds |x| up to ${max.toPrecision(3)}, beyond ${type}'s ±${limit.toPrecision(5)}`;
  return (node) => {
    if (node.opType === 'Constant') {
      const max = ofConstantNode(node);
      return max > limit ? describe(node.outputs[0]?.name ?? node.name, max) : undefined;
    }
    for (const input of node.inputs) {
      if (!isFloat32(input)) continue;
      const max = ofValue(input);
      if (max > limit) return describe(input.name, max);
    }
    return undefined;
  };
}

/**
 * Cast `to`, Constant `value` / `value_float` / `value_floats` and ConstantOfShape `value` of a
 * converted node follow it to 16 bits. A ConstantOfShape without `value` means a float32 zero
 * (ONNX's default), so it gets an explicit 16-bit zero: its output is 16-bit now.
 */
function rewriteTypeAttributes(node: Node, type: HalfType): void {
  const to = node.getAttribute('to');
  if (node.opType === 'Cast' && to?.kind === 'int' && to.value === ONNX_CODE.float32) node.setAttribute('to', attrs.int(ONNX_CODE[type]));
  if (node.opType !== 'Constant' && node.opType !== 'ConstantOfShape') return;
  const value = node.getAttribute('value');
  if (value?.kind === 'tensor' && value.value.dtype === 'float32') {
    node.setAttribute('value', attrs.tensor(toHalfTensor(value.value, type).tensor));
  } else if (node.opType === 'ConstantOfShape' && value === undefined) {
    node.setAttribute('value', attrs.tensor(toHalfTensor(Tensor.fromValues('float32', [1], [0]), type).tensor));
  } else if (node.opType === 'Constant') {
    const scalar = node.getAttribute('value_float');
    const list = node.getAttribute('value_floats');
    const floats = scalar?.kind === 'float' ? Tensor.fromValues('float32', [], [scalar.value]) : list?.kind === 'floats' ? Tensor.fromValues('float32', [list.value.length], list.value) : undefined;
    if (!floats) return;
    node.removeAttribute(scalar ? 'value_float' : 'value_floats');
    node.setAttribute('value', attrs.tensor(toHalfTensor(floats, type).tensor));
  }
}

/** Float32 constants read at 16 bits become 16-bit (a 16-bit copy when float32 operands read them too). */
function convertConstants(model: Model, needs: (use: Use) => Precision, type: HalfType, context: PassContext<Options>): void {
  for (const constant of [...model.graph.constants]) {
    if (!isFloat32(constant) || !constant.isConstant || !constant.constant) continue;
    const uses = [...constant.uses];
    const halfUses = uses.filter((use) => needs(use) === 'half');
    if (halfUses.length === 0) continue;
    const { tensor, clamped } = toHalfTensor(constant.constant, type);
    if (clamped) context.statistic('values-clamped', clamped);
    context.statistic('constants-converted');
    if (halfUses.length === uses.length) {
      constant.setConstant(tensor);
      continue;
    }
    const copy = model.graph.addConstant(model.graph.uniqueName(`${constant.name}_${type}`), tensor);
    for (const use of halfUses) use.node!.setInput(use.index, copy);
  }
}

/** One Cast per value and direction where a value's data precision differs from what a use needs. */
function insertCasts(model: Model, half: ReadonlySet<Value>, needs: (use: Use) => Precision, type: HalfType, context: PassContext<Options>): void {
  const candidates: Value[] = [...model.graph.inputs, ...model.graph.constants];
  for (const node of model.graph.nodes()) for (const output of node.outputs) if (output) candidates.push(output);
  for (const value of candidates) {
    const produced: Precision | undefined = half.has(value) ? 'half' : isFloat32(value) ? 'float32' : undefined;
    if (!produced) continue;
    const casts = new Map<Precision, Value>();
    for (const use of [...value.uses]) {
      const needed = needs(use);
      if (needed === produced) continue;
      let cast = casts.get(needed);
      if (!cast) {
        cast = castOf(model, value, needed === 'half' ? type : 'float32');
        casts.set(needed, cast);
        context.statistic('casts-inserted');
      }
      if (use.isGraphOutput) moveGraphOutputs(value, cast);
      else use.node!.setInput(use.index, cast);
    }
  }
}

/**
 * The graph outputs `value` is (not its node readers, which have casts of their own or need its
 * precision) become `cast`, which takes the output's public name. A graph output that a node also
 * reads (a VAE's `mu`, read by the reparametrisation) lost its 16-bit reader to the float32 cast
 * with replaceAllUsesWith: 'type T is already float32' on the Add.
 */
function moveGraphOutputs(value: Value, cast: Value): void {
  if (!value.isGraphOutput) return;
  const name = value.name;
  value.replaceUsesWith(cast, (use) => use.isGraphOutput);
  value.rename(value.graph.uniqueName(`${name}__replaced`)); // as Value.replaceAllUsesWith names it
  cast.rename(name);
}

function castOf(model: Model, value: Value, to: HalfType | 'float32'): Value {
  const b = value.producer ? Builder.after(value.producer) : Builder.atStart(model.graph);
  const shape = value.type.kind === 'tensor' ? value.type.shape : null;
  return b.op1('onnx.Cast', [value], { to: attrs.int(ONNX_CODE[to]) }, { name: `${value.name}_to_${to}`, outputs: [`${value.name}_${to}`], types: [tensorType(to, shape)] });
}

/**
 * Every `keep=` entry must name a node of the model or an ONNX op type (kept generic, so one pipeline serves
 * models without that op): a misspelt node name was ignored and that node silently converted (QA s12).
 */
function checkKeepNames(model: Model, keep: ReadonlySet<string>, context: PassContext<Options>): void {
  const names = new Set<string>();
  for (const node of model.graph.nodes()) {
    names.add(node.name);
    names.add(node.opType);
  }
  for (const entry of keep) {
    if (names.has(entry) || context.registry.get(`onnx.${entry}`) !== undefined) continue;
    const suggestion = closestName(entry, names);
    throw new ModelpassError({
      reason: `option 'keep' of pass 'convert-float16' names '${entry}', which is neither a node of the model nor an ONNX op type${suggestion !== undefined ? ` — did you mean '${suggestion}'?` : ''}`,
      expected: 'node names or op types such as Softmax, LayerNormalization',
      actual: `'${entry}'`,
      source: '@modelpass/quantize',
    });
  }
}
