import { isTensorType, type Model, type Node, type Value } from '@modelpass/ir';

/** ONNX defines HardSwish(x) = x * HardSigmoid(x) with alpha = 1/6 and beta = 0.5, from opset 14. */
export const HARD_SWISH_OPSET = 14;
const HARD_SWISH_ALPHA = Math.fround(1 / 6);
const HARD_SWISH_BETA = 0.5;

/** A `Mul(x, HardSigmoid(x))` (either operand order) that computes exactly HardSwish(x). */
export interface HardSwishMatch {
  readonly mul: Node;
  readonly hardSigmoid: Node;
  readonly x: Value;
}

/**
 * Matches `mul` against `x * HardSigmoid(x; alpha=1/6, beta=0.5)`. The attributes are compared
 * as float32 (ONNX stores them so), which is exactly what HardSwish uses internally.
 */
export function matchHardSwish(mul: Node): HardSwishMatch | undefined {
  if (mul.op !== 'onnx.Mul' || mul.inputs.length !== 2 || mul.outputs.length !== 1) return undefined;
  for (const index of [0, 1]) {
    const gate = mul.inputs[index];
    const x = mul.inputs[1 - index];
    const hardSigmoid = gate?.producer;
    if (!x || !hardSigmoid || hardSigmoid.op !== 'onnx.HardSigmoid' || hardSigmoid.inputs[0] !== x) continue;
    const alpha = hardSigmoid.optionalAttr('alpha', 'float') ?? 0.2;
    const beta = hardSigmoid.optionalAttr('beta', 'float') ?? 0.5;
    if (Math.fround(alpha) === HARD_SWISH_ALPHA && Math.fround(beta) === HARD_SWISH_BETA) return { mul, hardSigmoid, x };
  }
  return undefined;
}

/** Element types HardSwish accepts at `opset` (bfloat16 arrived in opset 22). */
export function hardSwishAccepts(x: Value, opset: number): boolean {
  if (!isTensorType(x.type)) return true; // unknown: HardSigmoid accepted it, so HardSwish does too
  const dtype = x.type.dtype;
  return dtype === 'float16' || dtype === 'float32' || dtype === 'float64' || (dtype === 'bfloat16' && opset >= 22);
}

/**
 * Replaces the Mul by `onnx.HardSwish(x)`. The Mul's output value moves to the new node, so its
 * name, type and readers (graph outputs included) stay as they were. The HardSigmoid is left
 * alone; the caller erases it once nothing reads it.
 */
export function fuseHardSwish(match: HardSwishMatch): Node {
  const { mul, x } = match;
  const graph = mul.graph!;
  const fused = graph.createNode({
    op: 'onnx.HardSwish',
    inputs: [x],
    outputs: [],
    name: graph.uniqueNodeName(`${mul.name}_hardswish`),
    loc: mul.loc,
    before: mul,
  });
  graph.adoptOutput(mul.output(0), fused, 0);
  mul.erase();
  return fused;
}

/** Every HardSwish-shaped Mul in the model, subgraphs included, in graph order. */
export function findHardSwishCandidates(model: Model): HardSwishMatch[] {
  const matches: HardSwishMatch[] = [];
  for (const node of model.graph.allNodes()) {
    const match = matchHardSwish(node);
    if (match) matches.push(match);
  }
  return matches;
}
