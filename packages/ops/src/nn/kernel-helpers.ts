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
    const out = new Uint8Array(count * width);
    copyElements(list.map((t) => t.bytes()), width, out, sourceIndex, sourceTensor);
    return Tensor.fromBytes(dtype, shape, out, first.quant);
  }
  const decoded = list.map((t) => decodeElements(dtype, t.bytes(), t.size) as Int8Array | Uint8Array | Float32Array);
  const values = new Array<number>(count);
  for (let i = 0; i < count; i++) values[i] = decoded[sourceTensor ? sourceTensor[i]! : 0]![sourceIndex[i]!]!;
  return Tensor.fromBytes(dtype, shape, encodeElements(dtype, values), first.quant);
}

type WordArray = Uint8Array | Uint16Array | Uint32Array;

/** `bytes` as words of `wordBytes` bytes (a view when aligned, else an aligned copy). */
function wordsOf(bytes: Uint8Array, wordBytes: 1 | 2 | 4): WordArray {
  if (wordBytes === 1) return bytes;
  let source = bytes;
  if (source.byteOffset % wordBytes !== 0) source = new Uint8Array(bytes);
  const length = Math.floor(source.byteLength / wordBytes);
  return wordBytes === 2 ? new Uint16Array(source.buffer, source.byteOffset, length) : new Uint32Array(source.buffer, source.byteOffset, length);
}

/**
 * Copies element `sourceIndex[i]` of source `sourceTensor[i]` (or of the only source) to element `i`
 * of `out`, elements being `width` bytes; moves whole 1-, 2- or 4-byte words (bit patterns kept).
 */
function copyElements(sources: readonly Uint8Array[], width: number, out: Uint8Array, sourceIndex: ArrayLike<number>, sourceTensor: ArrayLike<number> | undefined): void {
  const wordBytes: 1 | 2 | 4 = width % 4 === 0 ? 4 : width % 2 === 0 ? 2 : 1;
  const perElement = width / wordBytes;
  const words = sources.map((bytes) => wordsOf(bytes, wordBytes));
  const target = wordsOf(out, wordBytes);
  const count = sourceIndex.length;
  if (perElement === 1 && !sourceTensor) {
    const src = words[0]!;
    for (let i = 0; i < count; i++) target[i] = src[sourceIndex[i]!]!;
    return;
  }
  for (let i = 0; i < count; i++) {
    const src = words[sourceTensor ? sourceTensor[i]! : 0]!;
    const from = sourceIndex[i]! * perElement;
    const to = i * perElement;
    for (let w = 0; w < perElement; w++) target[to + w] = src[from + w]!;
  }
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
