/**
 * Selecting and arranging elements: Compress (numpy.compress), ReverseSequence, Unique
 * (numpy.unique with first-occurrence order when unsorted), EyeLike. Data is copied, so every dtype is exact.
 */
import { dtypeFromOnnxCode, Tensor, tensorType, type DType, type Dim } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { allocateElements, readElements, isBigIntDType, readInts, tensorFromElements } from '../util/elements.js';
import { inputTensorType } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { normalizeAxis, sizeOf, stridesOf } from '../util/shape.js';
import { gatherElements, int64Tensor } from './kernel-helpers.js';

/** Takes entries `picks` (in order) of `x` along `axis`. */
function takeEntries(x: Tensor, axis: number, picks: readonly number[]): Tensor {
  const outer = sizeOf(x.shape, 0, axis);
  const inner = sizeOf(x.shape, axis + 1);
  const dim = x.shape[axis]!;
  const map = new Int32Array(outer * picks.length * inner);
  let flat = 0;
  for (let o = 0; o < outer; o++) for (const p of picks) for (let j = 0; j < inner; j++) map[flat++] = (o * dim + p) * inner + j;
  const shape = [...x.shape];
  shape[axis] = picks.length;
  return gatherElements(x, shape, map);
}

export const compressOp = defineCanonicalOp({
  op: 'onnx.Compress',
  summary: 'Keeps the slices along axis (or elements of the flattened input) where condition is true',
  inputs: [{ name: 'input' }, { name: 'condition' }],
  outputs: [{ name: 'output' }],
  attributes: { axis: { kind: 'int' } },
  inferTypes(context) {
    const x = inputTensorType(context, 0);
    if (!x) return [undefined];
    const axis = context.node.optionalAttr('axis', 'int');
    if (axis === undefined) return [tensorType(x.dtype, [null])];
    if (!x.shape) return [tensorType(x.dtype, null)];
    const a = axis < 0 ? axis + x.shape.length : axis;
    return [tensorType(x.dtype, x.shape.map((d, i) => (i === a ? null : d)))];
  },
  kernel(inputs, context) {
    const raw = inputTensor(inputs, 0, context);
    const condition = readInts(inputTensor(inputs, 1, context));
    const axisAttribute = context.node.optionalAttr('axis', 'int');
    const x = axisAttribute === undefined ? raw.reshape([raw.size]) : raw;
    const axis = axisAttribute === undefined ? 0 : normalizeAxis(axisAttribute, x.rank, context.node);
    if (condition.length > x.shape[axis]!) throw opError(context.node, `condition has ${condition.length} entries for a dimension of ${x.shape[axis]}`);
    const picks = condition.flatMap((c, i) => (c ? [i] : []));
    return [takeEntries(x, axis, picks)];
  },
});

export const reverseSequenceOp = defineCanonicalOp({
  op: 'onnx.ReverseSequence',
  summary: 'Reverses the first sequence_lens[b] entries along time_axis for each batch entry b',
  inputs: [{ name: 'input' }, { name: 'sequence_lens' }],
  outputs: [{ name: 'Y' }],
  attributes: { batch_axis: { kind: 'int', default: 1, oneOf: [0, 1] }, time_axis: { kind: 'int', default: 0, oneOf: [0, 1] } },
  inferTypes: (context) => [inputTensorType(context, 0)],
  kernel(inputs, context) {
    const { node } = context;
    const x = inputTensor(inputs, 0, context);
    const lens = readInts(inputTensor(inputs, 1, context));
    const batchAxis = node.attr('batch_axis', 'int', 1);
    const timeAxis = node.attr('time_axis', 'int', 0);
    if (batchAxis === timeAxis || x.rank < 2) throw opError(node, 'batch_axis and time_axis must differ on an input of rank 2 or more');
    if (lens.length !== x.shape[batchAxis]) throw opError(node, `sequence_lens has ${lens.length} entries`, { expected: String(x.shape[batchAxis]) });
    const strides = stridesOf(x.shape);
    const map = new Int32Array(x.size);
    for (let flat = 0, end = x.size; flat < end; flat++) {
      const b = Math.floor(flat / strides[batchAxis]!) % x.shape[batchAxis]!;
      const t = Math.floor(flat / strides[timeAxis]!) % x.shape[timeAxis]!;
      const len = lens[b]!;
      if (len < 0 || len > x.shape[timeAxis]!) throw opError(node, `sequence length ${len} is out of range`, { expected: `0..${x.shape[timeAxis]}` });
      map[flat] = t < len ? flat + (len - 1 - 2 * t) * strides[timeAxis]! : flat;
    }
    return [gatherElements(x, x.shape, map)];
  },
});

/** Orders two slices (arrays of elements) lexicographically, numbers and bigints by value. */
function compareSlices(a: readonly (number | bigint | string)[], b: readonly (number | bigint | string)[]): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < b[i]!) return -1;
    if (a[i]! > b[i]!) return 1;
  }
  return 0;
}

export const uniqueOp = defineCanonicalOp({
  op: 'onnx.Unique',
  summary: 'Unique elements (or slices along axis), with first indices, inverse indices and counts',
  inputs: [{ name: 'X' }],
  outputs: [{ name: 'Y' }, { name: 'indices', optional: true }, { name: 'inverse_indices', optional: true }, { name: 'counts', optional: true }],
  attributes: { axis: { kind: 'int' }, sorted: { kind: 'int', default: 1, oneOf: [0, 1] } },
  inferTypes(context) {
    const x = inputTensorType(context, 0);
    const axis = context.node.optionalAttr('axis', 'int');
    let y: Dim[] | null = [null];
    let inverse: Dim[] = [null];
    if (axis !== undefined) {
      if (x?.shape) {
        const a = axis < 0 ? axis + x.shape.length : axis;
        y = x.shape.map((d, i) => (i === a ? null : d));
        inverse = [x.shape[a] ?? null];
      } else y = null;
    } else if (x?.shape?.every((d) => typeof d === 'number')) inverse = [(x.shape as number[]).reduce((p, d) => p * d, 1)];
    return [x ? tensorType(x.dtype, y) : undefined, tensorType('int64', [null]), tensorType('int64', inverse), tensorType('int64', [null])];
  },
  kernel(inputs, context) {
    const raw = inputTensor(inputs, 0, context);
    const axisAttribute = context.node.optionalAttr('axis', 'int');
    const x = axisAttribute === undefined ? raw.reshape([raw.size]) : raw;
    const axis = axisAttribute === undefined ? 0 : normalizeAxis(axisAttribute, x.rank, context.node);
    const data = (x.dtype === 'string' ? x.strings! : Array.from(readElements(x) as ArrayLike<number | bigint>)) as readonly (number | bigint | string)[];
    const [outer, dim, inner] = [sizeOf(x.shape, 0, axis), x.shape[axis]!, sizeOf(x.shape, axis + 1)];
    const slices = Array.from({ length: dim }, (_, p) => {
      const slice: (number | bigint | string)[] = [];
      for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) slice.push(data[(o * dim + p) * inner + j]!);
      return slice;
    });
    // First occurrences in input order, then (when sorted) ordered by value.
    const firsts: number[] = [];
    const inverseOfFirst = new Map<number, number>();
    const inverse = new Array<number>(dim);
    const byKey = new Map<string, number>();
    slices.forEach((slice, p) => {
      const key = JSON.stringify(slice, (_, v) => (typeof v === 'bigint' ? `${v}n` : Number.isNaN(v) ? 'NaN' : v));
      let first = byKey.get(key);
      if (first === undefined) {
        first = p;
        byKey.set(key, p);
        firsts.push(p);
      }
      inverse[p] = first;
    });
    const order = context.node.attr('sorted', 'int', 1) === 1 ? [...firsts].sort((a, b) => compareSlices(slices[a]!, slices[b]!) || a - b) : firsts;
    order.forEach((first, u) => inverseOfFirst.set(first, u));
    const counts = new Array<number>(order.length).fill(0);
    const inverseIndices = inverse.map((first) => inverseOfFirst.get(first)!);
    for (const u of inverseIndices) counts[u]!++;
    return [takeEntries(x, axis, order), int64Tensor([order.length], order), int64Tensor([dim], inverseIndices), int64Tensor([order.length], counts)];
  },
});

function eyeDType(code: number | undefined, fallback: DType | undefined): DType | undefined {
  return code === undefined ? fallback : dtypeFromOnnxCode(code);
}

export const eyeLikeOp = defineCanonicalOp({
  op: 'onnx.EyeLike',
  summary: 'A 2-D tensor of the input shape with ones on diagonal k (dtype attribute or the input dtype)',
  inputs: [{ name: 'input' }],
  outputs: [{ name: 'output' }],
  attributes: { dtype: { kind: 'int' }, k: { kind: 'int', default: 0 } },
  inferTypes(context) {
    const x = inputTensorType(context, 0);
    const dtype = eyeDType(context.node.optionalAttr('dtype', 'int'), x?.dtype);
    return [dtype ? tensorType(dtype, x?.shape ?? [null, null]) : undefined];
  },
  kernel(inputs, context) {
    const x = inputTensor(inputs, 0, context);
    const dtype = eyeDType(context.node.optionalAttr('dtype', 'int'), x.dtype);
    if (!dtype || dtype === 'string') throw opError(context.node, 'dtype is not a numeric or bool ONNX data type', { actual: String(context.node.optionalAttr('dtype', 'int')) });
    if (x.rank !== 2) throw opError(context.node, 'input must be 2-D', { actual: `rank ${x.rank}` });
    const [rows, cols] = x.shape as [number, number];
    const k = context.node.attr('k', 'int', 0);
    const out = allocateElements(dtype, rows * cols) as unknown as (number | bigint)[];
    const one = isBigIntDType(dtype) ? 1n : 1;
    for (let r = 0; r < rows; r++) if (r + k >= 0 && r + k < cols) out[r * cols + r + k] = one;
    return [tensorFromElements(dtype, [rows, cols], out as unknown as ArrayLike<number>)];
  },
});

export const selectionOps = [compressOp, reverseSequenceOp, uniqueOp, eyeLikeOp];
