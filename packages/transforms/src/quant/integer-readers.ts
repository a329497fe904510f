/**
 * Node inputs that read a quantized value's stored INTEGERS (not its reals): DequantizeLinear's x,
 * the quantized operands of QLinear* and *Integer ops. Every other op reading a quant-typed value
 * computes on its reals, so materialize-qdq feeds it a DequantizeLinear. A table, so an op is one
 * entry.
 */
import type { Use } from '@modelpass/ir';

const INTEGER_INPUTS: ReadonlyMap<string, ReadonlySet<number>> = new Map<string, ReadonlySet<number>>([
  ['onnx.DequantizeLinear', new Set([0])],
  ['onnx.QLinearConv', new Set([0, 3])],
  ['onnx.QLinearMatMul', new Set([0, 3])],
  ['onnx.ConvInteger', new Set([0, 1])],
  ['onnx.MatMulInteger', new Set([0, 1])],
]);

/** True when this node input reads stored integers. */
export function readsIntegers(op: string, inputIndex: number): boolean {
  return INTEGER_INPUTS.get(op)?.has(inputIndex) ?? false;
}

/**
 * True when the use keeps seeing the integers after lowering: a graph output of the value's own
 * graph (the model returns the stored integers) or an integer-reading input.
 */
export function usesIntegers(use: Use): boolean {
  const node = use.node;
  if (!node) return true;
  return readsIntegers(node.op, use.index);
}
