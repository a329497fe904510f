/**
 * Helpers shared by the nn-family kernels: reading inputs as tensors, numeric views of tensor data,
 * building result tensors, and dtype-agnostic element gathering for data-movement ops.
 */
import {
  byteLengthOf,
  decodeElements,
  dtypeInfo,
  encodeElements,
  isFloatDType,
  ModelpassError,
  Tensor,
  type DType,
  type Node,
} from '@modelpass/ir';
import type { RuntimeValue } from '../op-definition.js';

export type NumericArray = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

export function kernelError(node: Node, reason: string, extra: { expected?: string; actual?: string; hint?: string } = {}): ModelpassError {
  return new ModelpassError({ reason, location: node.location, source: '@modelpass/ops', ...extra });
}

/** Input `index` as a tensor; a located error when absent or a sequence. */
export function tensorArg(inputs: readonly RuntimeValue[], index: number, node: Node): Tensor {
  const value = inputs[index];
  if (value === null || value === undefined) throw kernelError(node, `input #${index} is required but absent`);
  if (!(value instanceof Tensor)) throw kernelError(node, `input #${index} must be a tensor`, { actual: 'a sequence' });
  return value;
}

/** Input `index` as a tensor, or undefined when omitted. */
export function optionalTensorArg(inputs: readonly RuntimeValue[], index: number, node: Node): Tensor | undefined {
  const value = inputs[index];
  if (value === null || value === undefined) return undefined;
  if (!(value instanceof Tensor)) throw kernelError(node, `input #${index} must be a tensor`, { actual: 'a sequence' });
  return value;
}

/** Input `index` as a sequence of tensors. */
export function sequenceArg(inputs: readonly RuntimeValue[], index: number, node: Node): readonly Tensor[] {
  const value = inputs[index];
  if (!Array.isArray(value)) throw kernelError(node, `input #${index} must be a sequence of tensors`);
  return value as readonly Tensor[];
}

export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i]!;
  }
  return strides;
}

export function product(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function normalizeAxis(axis: number, rank: number, node: Node): number {
  const normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= Math.max(rank, 1)) {
    throw kernelError(node, `axis ${axis} is out of range for rank ${rank}`, { expected: `an axis in [${-rank}, ${rank - 1}]` });
  }
  return normalized;
}

/**
 * The elements of a numeric tensor as a JavaScript numeric array (float16/bfloat16 widen to
 * float32; 64-bit integers convert to float64, exact up to 2^53).
 */
export function numericData(tensor: Tensor): NumericArray {
  const data = tensor.data();
  if (Array.isArray(data)) throw new TypeError('string tensors have no numeric values');
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Float64Array.from(data, (v) => Number(v));
  return data as NumericArray;
}

/** Integer elements (int32/int64/...) as numbers; for shapes, axes, indices. */
export function intData(tensor: Tensor): number[] {
  return Array.from(numericData(tensor) as ArrayLike<number>);
}

/** A tensor from numbers, rounded to `dtype` (float16/bfloat16 round to nearest even). */
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
  const total = product(shape);
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

/** The multidirectional (numpy) broadcast of static shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[], node: Node): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw kernelError(node, `shapes [${a.join(',')}] and [${b.join(',')}] do not broadcast`);
    }
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** For each element of `outShape`, the flat index of the element of `shape` it broadcasts from. */
export function broadcastIndexMap(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const rank = outShape.length;
  const strides = stridesOf(shape);
  const effective = outShape.map((_, d) => {
    const sourceDim = d - (rank - shape.length);
    return sourceDim < 0 || shape[sourceDim] === 1 ? 0 : strides[sourceDim]!;
  });
  const map = new Int32Array(product(outShape));
  forEachIndex(outShape, (index, flat) => {
    let offset = 0;
    for (let d = 0; d < rank; d++) offset += index[d]! * effective[d]!;
    map[flat] = offset;
  });
  return map;
}

/** The float dtypes ONNX's float ops accept. */
export const FLOAT_DTYPES: readonly DType[] = ['float32', 'float16', 'float64', 'bfloat16'];

/** A one-element tensor holding zero (the empty string for strings) of `dtype`. */
export function zeroScalar(dtype: DType): Tensor {
  if (dtype === 'string') return Tensor.fromStrings([1], ['']);
  return Tensor.fromBytes(dtype, [1], new Uint8Array(byteLengthOf(dtype, 1)));
}
