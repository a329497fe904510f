import { isTensorType, type Node, type Value } from '@modelpass/ir';

/**
 * Ops whose output is never below zero (NaN stays NaN, which Relu passes through unchanged),
 * each with the condition under which that holds. A table, so adding an op is one line.
 */
const NON_NEGATIVE_OUTPUT: ReadonlyMap<string, (node: Node) => boolean> = new Map([
  ['onnx.Relu', () => true],
  ['onnx.Sigmoid', () => true],
  ['onnx.HardSigmoid', () => true],
  ['onnx.Softplus', () => true],
  ['onnx.Softmax', () => true],
  ['onnx.Exp', () => true],
  // |x| of the most negative integer wraps around to itself, so only floats qualify.
  ['onnx.Abs', (node: Node) => isFloatValue(node.inputs[0] ?? null)],
  ['onnx.Clip', (node: Node) => clipLowerBound(node) !== undefined && clipLowerBound(node)! >= 0],
]);

/** True when `value` is certainly ≥ 0 (or NaN) element by element, judged by its producer. */
export function isNonNegative(value: Value): boolean {
  const producer = value.producer;
  if (!producer || producer.outputs[0] !== value) return false;
  const holds = NON_NEGATIVE_OUTPUT.get(producer.op);
  return holds !== undefined && holds(producer);
}

/**
 * The constant lower bound of a Clip: the `min` attribute (opset < 11) or the constant scalar
 * input 1 (opset ≥ 11). Undefined when there is none or it is not a constant.
 */
export function clipLowerBound(clip: Node): number | undefined {
  const attribute = clip.getAttribute('min');
  if (attribute?.kind === 'float') return attribute.value;
  const input = clip.inputs[1];
  if (!input || !input.isConstant || !input.constant || input.constant.size !== 1) return undefined;
  const [bound] = input.constant.toNumbers();
  return Number.isNaN(bound) ? undefined : bound;
}

const FLOAT_DTYPES = new Set(['float16', 'bfloat16', 'float32', 'float64']);

export function isFloatValue(value: Value | null): boolean {
  return value !== null && isTensorType(value.type) && FLOAT_DTYPES.has(value.type.dtype);
}
