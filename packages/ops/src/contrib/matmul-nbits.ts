/**
 * `com.microsoft.MatMulNBits` (ORT docs/ContribOperators.md): Y = A · dequantize(B)ᵀ (+ bias), B a
 * constant [N, K] weight quantized block-wise along K to `bits` bits and packed low bits first.
 *
 *   A [..., K] float; B uint8 [N, k_blocks, blob_size] with k_blocks = ceil(K / block_size) and
 *   blob_size = block_size · bits / 8; scales [N, k_blocks] (or flat N · k_blocks) of A's type;
 *   zero_points uint8 packed [N, ceil(k_blocks · bits / 8)] or of A's type [N, k_blocks] (flat
 *   forms accepted); g_idx int32 (deprecated); bias [N]. Y [..., N] of A's type.
 *
 * The verify hook reports, at the node, what ONNX Runtime refuses when it loads or runs the node:
 * a block size that is not a power of two ≥ 16, bits outside 2..8, A's last dim ≠ K, and B, scales,
 * zero points or bias shaped for another K, N, block size or bit width.
 */
import { tensorType, type Dim, type Node, type VerifyContext } from '@modelpass/ir';
import { inputShape, inputTensorType, shapeOfType, staticDim } from '../util/inference.js';
import { intAttribute, reportAt } from '../verify/verify-context.js';
import { defineContribOp, MICROSOFT_DIALECT, staticElementCount } from './contrib-op.js';

export const MATMUL_NBITS_INPUTS = { A: 0, B: 1, scales: 2, zeroPoints: 3, groupIndex: 4, bias: 5 } as const;

/** The packed layout MatMulNBits' attributes imply (undefined when K, N, bits or block_size is missing). */
export interface MatMulNBitsLayout {
  readonly k: number;
  readonly n: number;
  readonly bits: number;
  readonly blockSize: number;
  readonly blocks: number;
  readonly blobSize: number;
}

export function matMulNBitsLayout(node: Node): MatMulNBitsLayout | undefined {
  const k = intAttribute(node, 'K');
  const n = intAttribute(node, 'N');
  const blockSize = intAttribute(node, 'block_size');
  const bits = intAttribute(node, 'bits') ?? 4;
  if (k === undefined || n === undefined || blockSize === undefined || blockSize <= 0) return undefined;
  return { k, n, bits, blockSize, blocks: Math.ceil(k / blockSize), blobSize: (blockSize * bits) / 8 };
}

const isPowerOfTwo = (value: number): boolean => value > 0 && (value & (value - 1)) === 0;

function describeShape(shape: readonly Dim[]): string {
  return `[${shape.map((d) => (d === null ? '?' : d)).join(',')}]`;
}

/** An operand whose shape must be `expected` (or, when `flat`, any shape with that many elements). */
function checkOperandShape(context: VerifyContext, index: number, what: string, expected: readonly number[], flatAllowed: boolean, why: string): void {
  const value = context.node.inputs[index];
  const shape = shapeOfType(value?.type);
  if (!value || !shape) return;
  const count = staticElementCount(context, index);
  const want = expected.reduce((a, b) => a * b, 1);
  const sameShape = shape.length === expected.length && shape.every((dim, d) => dim === null || typeof dim === 'string' || dim === expected[d]);
  const sameCount = flatAllowed && shape.length === 1 && (count === undefined || count === want);
  if (sameShape || sameCount) return;
  reportAt(context, 'matmul-nbits-shape', `${what} '${value.name}' has shape ${describeShape(shape)} but ${why}`, {
    expected: `${describeShape(expected)}${flatAllowed ? ` (or [${want}])` : ''}`,
    actual: describeShape(shape),
    hint: 'B, scales and zero_points must be packed for the node\'s K, N, bits and block_size',
  });
}

function verifyMatMulNBits(context: VerifyContext): void {
  const { node } = context;
  const blockSize = intAttribute(node, 'block_size');
  if (blockSize !== undefined && (blockSize < 16 || !isPowerOfTwo(blockSize))) {
    reportAt(context, 'matmul-nbits-block-size', `block_size is ${blockSize}`, { expected: 'a power of two ≥ 16 (16, 32, 64, 128, …)', actual: String(blockSize) });
  }
  const bits = intAttribute(node, 'bits');
  if (bits !== undefined && (bits < 2 || bits > 8)) reportAt(context, 'matmul-nbits-bits', `bits is ${bits}`, { expected: '2 to 8 (ONNX Runtime supports 2, 4 and 8)', actual: String(bits) });
  for (const name of ['K', 'N'] as const) {
    const value = intAttribute(node, name);
    if (value !== undefined && value < 1) reportAt(context, 'matmul-nbits-dims', `${name} is ${value}`, { expected: 'a positive integer' });
  }
  const layout = matMulNBitsLayout(node);
  if (!layout || layout.k < 1 || layout.n < 1 || !Number.isInteger(layout.blobSize)) return;
  const { k, n, bits: b, blockSize: bs, blocks, blobSize } = layout;
  const a = shapeOfType(node.inputs[MATMUL_NBITS_INPUTS.A]?.type);
  const lastA = a && a.length > 0 ? staticDim(a[a.length - 1]) : undefined;
  if (lastA !== undefined && lastA !== k) {
    reportAt(context, 'matmul-nbits-k', `A's last dim is ${lastA} but K is ${k}`, { expected: `A of shape [..., ${k}]`, actual: describeShape(a!) });
  }
  checkOperandShape(context, MATMUL_NBITS_INPUTS.B, 'B', [n, blocks, blobSize], false, `K=${k}, N=${n}, bits=${b}, block_size=${bs} pack it as [N, ceil(K/block_size), block_size·bits/8]`);
  checkOperandShape(context, MATMUL_NBITS_INPUTS.scales, 'scales', [n, blocks], true, `there is one scale per block: N=${n} × ceil(K/block_size)=${blocks}`);
  const zeroPoints = node.inputs[MATMUL_NBITS_INPUTS.zeroPoints];
  if (zeroPoints?.type.kind === 'tensor') {
    const packed = zeroPoints.type.dtype === 'uint8';
    const perRow = packed ? Math.ceil((blocks * b) / 8) : blocks;
    checkOperandShape(context, MATMUL_NBITS_INPUTS.zeroPoints, 'zero_points', [n, perRow], true, packed ? `uint8 zero points are packed ${b} bits each: N=${n} × ceil(${blocks}·${b}/8)=${perRow}` : `there is one zero point per block: N=${n} × ${blocks}`);
  }
  checkOperandShape(context, MATMUL_NBITS_INPUTS.bias, 'bias', [n], false, `there is one bias per output feature (N=${n})`);
}

export const matMulNBitsOp = defineContribOp({
  op: `${MICROSOFT_DIALECT}.MatMulNBits`,
  summary: 'Y = A · dequantize(B)ᵀ (+ bias) with B [N, K] block-quantized along K to `bits` bits (2..8)',
  inputs: [{ name: 'A' }, { name: 'B' }, { name: 'scales' }, { name: 'zero_points', optional: true }, { name: 'g_idx', optional: true }, { name: 'bias', optional: true }],
  outputs: [{ name: 'Y' }],
  attributes: {
    K: { kind: 'int', required: true },
    N: { kind: 'int', required: true },
    bits: { kind: 'int', default: 4 },
    block_size: { kind: 'int', required: true },
    accuracy_level: { kind: 'int', default: 0, oneOf: [0, 1, 2, 3, 4] },
    weight_prepacked: { kind: 'int', default: 0 },
  },
  verify: verifyMatMulNBits,
  inferTypes(context) {
    const dtype = inputTensorType(context, MATMUL_NBITS_INPUTS.A)?.dtype;
    if (!dtype) return [undefined];
    const a = inputShape(context, MATMUL_NBITS_INPUTS.A);
    const n = context.node.optionalAttr('N', 'int');
    return [tensorType(dtype, a && a.length > 0 ? [...a.slice(0, -1), n ?? null] : null)];
  },
});
