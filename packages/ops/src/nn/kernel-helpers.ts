/**
 * Helpers of the nn-family kernels that the shared utilities (`../util`) do not cover: building
 * result tensors from computed numbers, and dtype-agnostic element gathering for data-movement ops.
 * Reading inputs, shapes, axes and element values goes through `../util`.
 */
import { byteLengthOf, decodeElements, dtypeInfo, encodeElements, isFloatDType, Tensor, type DType } from '@modelpass/ir';
import { sizeOf } from '../util/shape.js';

/** A tensor from numbers, rounded to `dtype` (float16/bfloat16 round to nearest even; ints truncate, non-finite → 0). */
export function tensorFromNumbers(dtype: DType, shape: readonly number[], values: ArrayLike<number>): Tensor {
  if (dtype === 'float32') {
    const array = values instanceof Float32Array ? values : Float32Array.from(values);
    return Tensor.fromBytes(dtype, shape, new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  }
  if (dtype === 'float64') {
    const array = values instanceof Float64Array ? values : Float64Array.from(values);
    return Tensor.fromBytes(dtype, shape, new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  }
  if (dtype === 'int64' || dtype === 'uint64') {
    return Tensor.fromValues(dtype, shape, Array.from(values, (v) => BigInt(Math.trunc(v))));
  }
  if (!isFloatDType(dtype)) {
    return Tensor.fromValues(dtype, shape, Array.from(values, (v) => (Number.isFinite(v) ? Math.trunc(v) : 0)));
  }
  return Tensor.fromValues(dtype, shape, values);
}

export function int64Tensor(shape: readonly number[], values: ArrayLike<number | bigint>): Tensor {
  return Tensor.fromValues('int64', shape, Array.from(values as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? v : BigInt(v))));
}

/**
 * A tensor whose element `i` is element `sourceIndex[i]` of `source` (or of the tensor selected by
 * `sourceTensor[i]` when several sources are given). Works for every dtype: whole bytes are copied,
 * sub-byte elements are decoded and re-encoded, strings are mapped.
 */
export function gatherElements(
  sources: Tensor | readonly Tensor[],
  shape: readonly number[],
  sourceIndex: ArrayLike<number>,
  sourceTensor?: ArrayLike<number>,
): Tensor {
  const list = sources instanceof Tensor ? [sources] : sources;
  const first = list[0]!;
  const dtype = first.dtype;
  const count = sourceIndex.length;
  if (dtype === 'string') {
    const strings = list.map((t) => t.strings!);
    const out = new Array<string>(count);
    for (let i = 0; i < count; i++) out[i] = strings[sourceTensor ? sourceTensor[i]! : 0]![sourceIndex[i]!]!;
    return Tensor.fromStrings(shape, out);
  }
  const bits = dtypeInfo(dtype).bits;
  if (bits % 8 === 0) {
    const width = bits / 8;
    const bytes = list.map((t) => t.bytes());
    const out = new Uint8Array(count * width);
    for (let i = 0; i < count; i++) {
      const src = bytes[sourceTensor ? sourceTensor[i]! : 0]!;
      const offset = sourceIndex[i]! * width;
      for (let b = 0; b < width; b++) out[i * width + b] = src[offset + b]!;
    }
    return Tensor.fromBytes(dtype, shape, out, first.quant);
  }
  const decoded = list.map((t) => decodeElements(dtype, t.bytes(), t.size) as Int8Array | Uint8Array | Float32Array);
  const values = new Array<number>(count);
  for (let i = 0; i < count; i++) values[i] = decoded[sourceTensor ? sourceTensor[i]! : 0]![sourceIndex[i]!]!;
  return Tensor.fromBytes(dtype, shape, encodeElements(dtype, values), first.quant);
}

/** Visits every multi-index of `shape` in row-major order (the callback gets the live index array). */
export function forEachIndex(shape: readonly number[], visit: (index: number[], flat: number) => void): void {
  const total = sizeOf(shape);
  if (total === 0) return;
  const index = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < total; flat++) {
    visit(index, flat);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
}

/** A one-element tensor holding zero (the empty string for strings) of `dtype`. */
export function zeroScalar(dtype: DType): Tensor {
  if (dtype === 'string') return Tensor.fromStrings([1], ['']);
  return Tensor.fromBytes(dtype, [1], new Uint8Array(byteLengthOf(dtype, 1)));
}
