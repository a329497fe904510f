/**
 * If, Loop and Scan resolved at conversion time, so their bodies become ordinary graph nodes that
 * the other rules lower (what is left becomes TFLite IF/WHILE with regions: control-flow-regions.ts):
 * - If with a constant condition: the chosen branch is inlined; with a run-time condition and small
 *   branches whose outputs are tensors of one static shape, and that cannot fail when not taken: both
 *   branches are inlined and each output is `Where(cond, then, else)` (SELECT_V2; both are computed);
 * - Loop with a constant trip count whose condition stays true (the body passes `cond_in` on or
 *   returns a constant true): unrolled, scan outputs stacked by Unsqueeze + Concat;
 * - Scan with static scan-axis lengths: unrolled, scan inputs sliced by Gather, scan outputs
 *   stacked (directions and axes as given).
 * Bodies are expanded innermost first.
 */
import { attrs, isTensorType, Tensor, type Graph, type Model, type Node, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { loweringError, normalizeAxis, staticDims } from '../lowering-tools.js';
import { branchMayFail, regionRefusal } from './control-flow-regions.js';
import { BodyInliner } from './inline-body.js';
import { conditionFixHint } from '../known-conditions.js';

/** Unrolling stops here: iterations × body nodes (a bigger loop becomes a TFLite WHILE, not written out). */
export const MAX_UNROLLED_NODES = 20_000;
/**
 * An If with a run-time condition is computed both ways and selected (SELECT_V2) only when its
 * branches hold at most this many nodes together; a bigger one becomes a TFLite IF, which runs one
 * branch. Measured in TFLite 2.9 (tools/bench/tflite/control-flow.mjs): SELECT_V2 is 13% faster with
 * 1–2 elementwise nodes per branch, IF 6% faster with 4, 13% with 8, 25% with 32.
 */
export const MAX_SELECTED_BRANCH_NODES = 6;

type Plan = { readonly run: () => void } | string;

function graphAttr(node: Node, name: string): Graph | undefined {
  const attribute = node.getAttribute(name);
  return attribute?.kind === 'graph' ? attribute.value : undefined;
}

function nestedControlFlow(body: Graph): Node | undefined {
  return body.nodeList().find((node) => node.subgraphs.length > 0);
}

function bodyProblem(node: Node, bodies: readonly (Graph | undefined)[]): string | undefined {
  if (bodies.some((body) => !body)) return `${node.op} has no body`;
  const nested = bodies.map((body) => nestedControlFlow(body!)).find(Boolean);
  if (nested) return `its body holds '${nested.name}' (${nested.op}), which could not be resolved at conversion time`;
  return undefined;
}

function scalarConstant(value: Value | null | undefined): number | undefined {
  const tensor = constantOf(value);
  if (!tensor || tensor.size !== 1 || tensor.dtype === 'string') return undefined;
  return tensor.toNumbers()[0];
}

function opsetOf(model: Model): number {
  return model.opset('onnx') ?? 17;
}

function planIf(node: Node): Plan {
  const thenBranch = graphAttr(node, 'then_branch');
  const elseBranch = graphAttr(node, 'else_branch');
  const problem = bodyProblem(node, [thenBranch, elseBranch]);
  if (problem) return problem;
  const inliner = () => new BodyInliner(node);
  const condition = scalarConstant(node.inputs[0]);
  if (condition !== undefined) {
    return { run: () => { const at = inliner(); at.replaceHolder(at.inline(condition !== 0 ? thenBranch! : elseBranch!, [], condition !== 0 ? 'then' : 'else')); } };
  }
  for (let index = 0; index < node.outputs.length; index++) {
    const [a, b] = [thenBranch!.outputs[index], elseBranch!.outputs[index]];
    const shapes = [staticDims(a), staticDims(b)];
    if (!a || !b || !isTensorType(a.type) || !isTensorType(b.type)) return `output ${index} is not a tensor in both branches; a run-time condition is resolved by SELECT_V2 over tensors only`;
    if (a.type.dtype !== b.type.dtype || !shapes[0] || !shapes[1] || shapes[0].join() !== shapes[1].join()) {
      return `the branches give output ${index} different or unknown shapes/dtypes; with a run-time condition both are computed and selected, which needs one static shape`;
    }
  }
  const rank = staticDims(node.inputs[0]);
  if (!rank || rank.reduce((n, d) => n * d, 1) !== 1) return 'the condition needs a static single-element shape';
  if (branchMayFail(thenBranch!) || branchMayFail(elseBranch!)) return 'a branch indexes or divides integers by run-time values, which may fail on the data of the branch not taken; only the taken branch may run';
  const branchNodes = thenBranch!.nodeCount + elseBranch!.nodeCount;
  if (branchNodes > MAX_SELECTED_BRANCH_NODES) return `the branches hold ${branchNodes} nodes, over the ${MAX_SELECTED_BRANCH_NODES} computed both ways and selected; only the taken branch should run`;
  return {
    run: () => {
      const at = inliner();
      const thenValues = at.inline(thenBranch!, [], 'then');
      const elseValues = at.inline(elseBranch!, [], 'else');
      const condition = node.input(0);
      at.replaceHolder(thenValues.map((value, index) => at.at.op1('onnx.Where', [condition, value, elseValues[index]!], {}, { types: [node.outputs[index]?.type ?? value.type] })));
    },
  };
}

/** The body's `cond_out` is its `cond_in` (through Identities) or a constant true: the loop runs its trip count. */
function conditionStaysTrue(body: Graph): boolean {
  let value: Value | undefined = body.outputs[0];
  while (value?.producer?.op === 'onnx.Identity') value = value.producer.inputs[0] ?? undefined;
  if (value === body.inputs[1]) return true;
  return scalarConstant(value) === 1;
}

function planLoop(node: Node, model: Model): Plan {
  const body = graphAttr(node, 'body');
  const problem = bodyProblem(node, [body]);
  if (problem) return problem;
  const trips = node.inputs[0] ? scalarConstant(node.inputs[0]) : undefined;
  if (trips === undefined) return 'the trip count M is absent or computed at run time; only loops with a constant trip count are unrolled';
  const initial = node.inputs[1] ? scalarConstant(node.inputs[1]) : 1;
  if (initial === undefined) return 'the initial condition is computed at run time';
  if (!conditionStaysTrue(body!)) return 'the loop condition is computed in the body (a data-dependent exit); only loops that run their constant trip count are unrolled';
  const iterations = initial === 0 ? 0 : trips;
  const carried = node.inputs.length - 2;
  const scans = body!.outputs.length - 1 - carried;
  if (iterations === 0 && scans > 0) return 'a loop of zero iterations with scan outputs gives empty tensors, which TFLite cannot hold';
  if (iterations * Math.max(1, body!.nodeCount) > MAX_UNROLLED_NODES) return `unrolling ${iterations} iterations of ${body!.nodeCount} nodes exceeds ${MAX_UNROLLED_NODES} nodes`;
  return {
    run: () => {
      const at = new BodyInliner(node);
      let state = node.inputs.slice(2).map((value) => value!);
      let condition = node.inputs[1] ?? at.at.constant(Tensor.scalar('bool', true), `${node.name}_true`);
      const stacked: Value[][] = Array.from({ length: scans }, () => []);
      for (let i = 0; i < iterations; i++) {
        const outputs = at.inline(body!, [at.int64(i, `iteration_${i}`), condition, ...state], `it${i}`);
        condition = outputs[0]!;
        state = outputs.slice(1, 1 + carried);
        outputs.slice(1 + carried).forEach((value, k) => stacked[k]!.push(at.unsqueeze(value, 0, opsetOf(model))));
      }
      at.replaceHolder([...state, ...stacked.map((values) => at.concat(values, 0))]);
    },
  };
}

function planScan(node: Node, model: Model): Plan {
  const body = graphAttr(node, 'body');
  const problem = bodyProblem(node, [body]);
  if (problem) return problem;
  if (opsetOf(model) < 9) return 'Scan before opset 9 (with a batch axis) is not supported';
  const scanInputs = node.optionalAttr('num_scan_inputs', 'int') ?? 0;
  const states = node.inputs.length - scanInputs;
  const inputAxes = node.optionalAttr('scan_input_axes', 'ints') ?? [];
  const inputDirections = node.optionalAttr('scan_input_directions', 'ints') ?? [];
  const outputAxes = node.optionalAttr('scan_output_axes', 'ints') ?? [];
  const outputDirections = node.optionalAttr('scan_output_directions', 'ints') ?? [];
  const inputs = node.inputs.slice(states);
  const axes: number[] = [];
  let length: number | undefined;
  for (const [k, value] of inputs.entries()) {
    const dims = staticDims(value);
    if (!dims) return `scan input ${k} needs a static shape to unroll`;
    const axis = normalizeAxis(inputAxes[k] ?? 0, dims.length);
    if (axis === undefined) return `scan_input_axes[${k}] is out of range`;
    axes.push(axis);
    if (length !== undefined && dims[axis] !== length) return 'scan inputs have different lengths';
    length = dims[axis];
  }
  if (length === undefined || length === 0) return 'a Scan without scan inputs or of length 0 is not unrolled';
  if (length * Math.max(1, body!.nodeCount) > MAX_UNROLLED_NODES) return `unrolling ${length} iterations of ${body!.nodeCount} nodes exceeds ${MAX_UNROLLED_NODES} nodes`;
  const scanOutputs = body!.outputs.length - states;
  const steps = length;
  return {
    run: () => {
      const at = new BodyInliner(node);
      let state = node.inputs.slice(0, states).map((value) => value!);
      const collected: Value[][] = Array.from({ length: scanOutputs }, () => []);
      for (let t = 0; t < steps; t++) {
        const elements = inputs.map((value, k) => {
          const index = inputDirections[k] === 1 ? steps - 1 - t : t;
          return at.at.op1('onnx.Gather', [value!, at.int64(index, `scan_${k}_${t}`)], { axis: attrs.int(axes[k]!) });
        });
        const outputs = at.inline(body!, [...state, ...elements], `t${t}`);
        state = outputs.slice(0, states);
        outputs.slice(states).forEach((value, k) => collected[k]!.push(value));
      }
      const stacked = collected.map((values, k) => {
        const rank = (staticDims(body!.outputs[states + k])?.length ?? 0) + 1;
        const axis = normalizeAxis(outputAxes[k] ?? 0, rank) ?? 0;
        const ordered = outputDirections[k] === 1 ? [...values].reverse() : values;
        return at.concat(ordered.map((value) => at.unsqueeze(value, axis, opsetOf(model))), axis);
      });
      at.replaceHolder([...state, ...stacked]);
    },
  };
}

function planFor(node: Node, model: Model): Plan | undefined {
  if (node.op === 'onnx.If') return planIf(node);
  if (node.op === 'onnx.Loop') return planLoop(node, model);
  if (node.op === 'onnx.Scan') return planScan(node, model);
  return undefined;
}

/** Expands what can be expanded in `graph`, bodies first. Returns how many control-flow nodes were resolved. */
function expandIn(graph: Graph, model: Model): number {
  let count = 0;
  for (const node of graph.nodeList()) {
    if (!node.graph || node.subgraphs.length === 0) continue;
    for (const body of node.subgraphs) count += expandIn(body, model);
    const plan = planFor(node, model);
    if (plan && typeof plan !== 'string') {
      plan.run();
      count++;
    }
  }
  return count;
}

/** If/Loop/Scan resolved at conversion time (see the file comment); returns how many were. */
export function expandStaticControlFlow(model: Model): number {
  return expandIn(model.graph, model);
}

const controlFlow: LoweringRule = {
  ops: ['onnx.If', 'onnx.Loop', 'onnx.Scan'],
  stage: 'lower',
  targets: ['SELECT_V2', 'GATHER', 'RESHAPE', 'CONCATENATION', 'WHILE', 'IF', 'DYNAMIC_UPDATE_SLICE', 'SLICE'],
  check(node, context) {
    const plan = planFor(node, context.model);
    if (typeof plan !== 'string') return `${node.op} was not resolved at conversion time (legalize-tflite unrolls it before lowering)`;
    const region = regionRefusal(node);
    const target = node.op === 'onnx.Loop' ? 'a TFLite WHILE' : 'a TFLite IF';
    const refusal = region ? `it cannot become ${target}: ${region} (and it is not resolved at conversion time: ${plan})` : plan;
    // Silero's If on the sample rate: the flag that makes the condition a constant (known-conditions.ts then inlines the branch).
    const fix = node.op === 'onnx.If' ? conditionFixHint(node) : undefined;
    return fix ? `${refusal}; ${fix}` : refusal;
  },
  lower(node) {
    throw loweringError(node, `${node.op} must be resolved before lowering`);
  },
};

export const controlFlowRules: readonly LoweringRule[] = [controlFlow];
