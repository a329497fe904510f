import { dtypeInfo, ModelpassError, Tensor, tensorType, type Dim, type Type } from '@modelpass/ir';
import { sizeOf, stridesOf, transposedOrder } from '@modelpass/ops';
import { canTransposeLazily, transposedInFile } from './lazy-transpose.js';
import { batchedMatrixTranspose, simplifyTranspose, transposeMatrices } from './transpose-plan.js';

/** A permutation in ONNX Transpose's convention: output axis `i` is input axis `perm[i]`. */
export type Permutation = readonly number[];

export function identityPermutation(rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => i);
}

export function isIdentityPermutation(perm: Permutation): boolean {
  return perm.every((axis, i) => axis === i);
}

/** Whether `perm` holds each of 0..rank-1 once. */
export function isPermutation(perm: Permutation): boolean {
  const seen = new Set(perm);
  return seen.size === perm.length && perm.every((axis) => Number.isInteger(axis) && axis >= 0 && axis < perm.length);
}

/** The permutation that undoes `perm`: `Transpose(Transpose(x, perm), invert(perm)) = x`. */
export function invertPermutation(perm: Permutation): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((axis, i) => (inverse[axis] = i));
  return inverse;
}

/** `Transpose(Transpose(x, first), second) = Transpose(x, composePermutations(first, second))`. */
export function composePermutations(first: Permutation, second: Permutation): number[] {
  return second.map((axis) => first[axis]!);
}

/** The dims of `Transpose(x, perm)` from those of `x`. */
export function permuteDims<T>(dims: readonly T[], perm: Permutation): T[] {
  return perm.map((axis) => dims[axis]!);
}

/** A tensor type transposed by `perm` (unranked and non-tensor types are returned as they are). */
export function permuteType(type: Type, perm: Permutation): Type {
  if (type.kind !== 'tensor' || type.shape === null || type.shape.length !== perm.length) return type;
  return tensorType(type.dtype, permuteDims<Dim>(type.shape, perm), type.quant && permuteQuantAxis(type.quant, perm));
}

function permuteQuantAxis<Q extends { readonly axis?: number }>(quant: Q, perm: Permutation): Q {
  if (quant.axis === undefined) return quant;
  const axis = quant.axis < 0 ? quant.axis + perm.length : quant.axis;
  return { ...quant, axis: perm.indexOf(axis) };
}

/** `[0, 2, …, r-1, 1]`: channels-first (NCHW) to channels-last (NHWC) for rank `r`. */
export function channelsLastPermutation(rank: number): number[] {
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
}

/** `[0, r-1, 1, …, r-2]`: channels-last (NHWC) to channels-first (NCHW). */
export function channelsFirstPermutation(rank: number): number[] {
  return invertPermutation(channelsLastPermutation(rank));
}

/**
 * The data of `Transpose(tensor, perm)`, computed offline (weights moved to another layout). Works on
 * the stored bytes, so any dtype of at least 8 bits; a sub-byte dtype is a clear error.
 */
export function transposeTensor(tensor: Tensor, perm: Permutation): Tensor {
  const shape = tensor.shape;
  if (perm.length !== shape.length || !isPermutation(perm)) {
    throw new ModelpassError({ reason: `cannot transpose a tensor of shape [${shape.join(',')}] by [${perm.join(',')}]`, source: '@modelpass/transforms' });
  }
  if (isIdentityPermutation(perm)) return tensor;
  const outShape = permuteDims(shape, perm);
  if (tensor.dtype === 'string') {
    const strings = tensor.strings!;
    const order = transposedOrder(shape, perm);
    return Tensor.fromStrings(outShape, Array.from(order, (i) => strings[i]!));
  }
  const bits = dtypeInfo(tensor.dtype).bits;
  if (bits < 8) {
    throw new ModelpassError({
      reason: `cannot transpose ${tensor.dtype} data offline`,
      expected: 'a dtype of 8 bits or more',
      source: '@modelpass/transforms',
    });
  }
  const width = bits / 8;
  const quant = tensor.quant && permuteQuantAxis(tensor.quant, perm);
  const plan = simplifyTranspose(shape, perm);
  // Only size-1 axes move (a 1×1 conv's OIHW → OHWI): the same bytes in a new shape, still lazy.
  if (isIdentityPermutation(plan.perm)) return tensor.reshape(outShape).withQuant(quant);
  const matrices = batchedMatrixTranspose(plan);
  // A conv filter still in its file: transposed when read, chunk by chunk as writers stream it.
  if (matrices && (width === 4 || width === 2 || width === 1) && canTransposeLazily(tensor.storage)) {
    const { batch, rows, cols } = matrices;
    return Tensor.fromStorage(tensor.dtype, outShape, transposedInFile(tensor.storage, width, batch, rows, cols), quant);
  }
  const bytes = tensor.bytes();
  const out = new Uint8Array(bytes.byteLength);
  // Whole elements through a typed view of the element's width (a copy first when unaligned); one
  // monomorphic loop per width, so V8 keeps each fast.
  const aligned = bytes.byteOffset % width === 0 ? bytes : new Uint8Array(bytes); // a copy (Buffer#slice would be a view)
  const buffer = aligned.buffer as ArrayBuffer;
  if (matrices && (width === 4 || width === 2 || width === 1)) {
    const view = width === 4 ? Uint32Array : width === 2 ? Uint16Array : Uint8Array;
    const { batch, rows, cols } = matrices;
    transposeMatrices(new view(buffer, aligned.byteOffset, aligned.byteLength / width), new view(out.buffer), batch, rows, cols);
    return Tensor.fromBytes(tensor.dtype, outShape, out, quant);
  }
  const walk = strides(shape, perm);
  if (width === 4) copyTransposed32(new Uint32Array(buffer, aligned.byteOffset, aligned.byteLength / 4), new Uint32Array(out.buffer), walk);
  else if (width === 2) copyTransposed16(new Uint16Array(buffer, aligned.byteOffset, aligned.byteLength / 2), new Uint16Array(out.buffer), walk);
  else if (width === 1) copyTransposed8(aligned, out, walk);
  else {
    const order = transposedOrder(shape, perm);
    for (let i = 0; i < order.length; i++) out.set(aligned.subarray(order[i]! * width, order[i]! * width + width), i * width);
  }
  return Tensor.fromBytes(tensor.dtype, outShape, out, quant);
}

interface TransposeWalk {
  readonly outShape: readonly number[];
  /** Source stride of each output axis. */
  readonly outStrides: readonly number[];
  readonly count: number;
}

function strides(shape: readonly number[], perm: Permutation): TransposeWalk {
  const sourceStrides = stridesOf(shape);
  return { outShape: permuteDims(shape, perm), outStrides: perm.map((axis) => sourceStrides[axis]!), count: sizeOf(shape) };
}

/** Row-major walk over the output, innermost axis in a tight loop. */
function copyTransposed32(source: Uint32Array, target: Uint32Array, walk: TransposeWalk): void {
  const { outShape, outStrides, count } = walk;
  const rank = outShape.length;
  if (count === 0) return;
  const innerSize = outShape[rank - 1]!;
  const innerStride = outStrides[rank - 1]!;
  const index = new Array<number>(rank).fill(0);
  let base = 0;
  for (let o = 0; o < count; o += innerSize) {
    for (let k = 0, from = base; k < innerSize; k++, from += innerStride) target[o + k] = source[from]!;
    for (let axis = rank - 2; axis >= 0; axis--) {
      index[axis]!++;
      base += outStrides[axis]!;
      if (index[axis]! < outShape[axis]!) break;
      base -= outStrides[axis]! * outShape[axis]!;
      index[axis] = 0;
    }
  }
}

function copyTransposed16(source: Uint16Array, target: Uint16Array, walk: TransposeWalk): void {
  const { outShape, outStrides, count } = walk;
  const rank = outShape.length;
  if (count === 0) return;
  const innerSize = outShape[rank - 1]!;
  const innerStride = outStrides[rank - 1]!;
  const index = new Array<number>(rank).fill(0);
  let base = 0;
  for (let o = 0; o < count; o += innerSize) {
    for (let k = 0, from = base; k < innerSize; k++, from += innerStride) target[o + k] = source[from]!;
    for (let axis = rank - 2; axis >= 0; axis--) {
      index[axis]!++;
      base += outStrides[axis]!;
      if (index[axis]! < outShape[axis]!) break;
      base -= outStrides[axis]! * outShape[axis]!;
      index[axis] = 0;
    }
  }
}

function copyTransposed8(source: Uint8Array, target: Uint8Array, walk: TransposeWalk): void {
  const { outShape, outStrides, count } = walk;
  const rank = outShape.length;
  if (count === 0) return;
  const innerSize = outShape[rank - 1]!;
  const innerStride = outStrides[rank - 1]!;
  const index = new Array<number>(rank).fill(0);
  let base = 0;
  for (let o = 0; o < count; o += innerSize) {
    for (let k = 0, from = base; k < innerSize; k++, from += innerStride) target[o + k] = source[from]!;
    for (let axis = rank - 2; axis >= 0; axis--) {
      index[axis]!++;
      base += outStrides[axis]!;
      if (index[axis]! < outShape[axis]!) break;
      base -= outStrides[axis]! * outShape[axis]!;
      index[axis] = 0;
    }
  }
}

/** `tensor` with leading 1-dims up to `rank` (numpy broadcasting's view of it). */
export function expandRank(tensor: Tensor, rank: number): Tensor {
  if (tensor.rank >= rank) return tensor;
  return tensor.reshape([...new Array<number>(rank - tensor.rank).fill(1), ...tensor.shape]);
}
