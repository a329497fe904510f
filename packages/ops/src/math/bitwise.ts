import type { CanonicalOp } from '../op-definition.js';
import { defineBinaryOp, defineUnaryOp } from './elementwise.js';

/**
 * Bitwise ops on integers (opset 18). Ints up to 32 bits compute as JS int32 and are stored back
 * into the output's typed array, which wraps them to its width (uint32 ~x included); 64-bit ones as BigInts.
 */
function defineBitwise(op: string, summary: string, int: (a: number, b: number) => number, bigint: (a: bigint, b: bigint) => bigint): CanonicalOp {
  return defineBinaryOp({ op, summary, functions: () => ({ int, bigint }) });
}

export const bitwiseAnd = defineBitwise('onnx.BitwiseAnd', 'Elementwise bitwise and of integers', (a, b) => a & b, (a, b) => a & b);
export const bitwiseOr = defineBitwise('onnx.BitwiseOr', 'Elementwise bitwise or of integers', (a, b) => a | b, (a, b) => a | b);
export const bitwiseXor = defineBitwise('onnx.BitwiseXor', 'Elementwise bitwise exclusive or of integers', (a, b) => a ^ b, (a, b) => a ^ b);

export const bitwiseNot = defineUnaryOp({
  op: 'onnx.BitwiseNot',
  summary: 'Elementwise bitwise complement of integers',
  functions: (context) => {
    const input = context.node.inputs[0]?.type;
    const unsigned64 = input?.kind === 'tensor' && input.dtype === 'uint64';
    return { int: (x) => ~x, bigint: (x) => (unsigned64 ? BigInt.asUintN(64, ~x) : ~x) };
  },
});

export const bitwiseOps: readonly CanonicalOp[] = [bitwiseAnd, bitwiseOr, bitwiseXor, bitwiseNot];
