/**
 * Indexing: Gather, GatherElements, GatherND, ScatterND, ScatterElements. Gathers and plain
 * scatters copy elements exactly for every dtype; scatters with a reduction compute in float64
 * (exact for integers up to 2^53).
 */
import { tensorType, type Dim, type Node, type Tensor } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { readInts, readNumbers } from '../util/elements.js';
import { inputShape, inputTensorType, normalizeAxisForInference, typeOf } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { axisOrRefuse } from '../util/shape-refusal.js';
import { normalizeAxis, sizeOf, stridesOf } from '../util/shape.js';
import { forEachIndex, gatherElements, tensorFromNumbers } from './kernel-helpers.js';
import { verifyGatherIndices } from '../verify/operand-value-checks.js';
import { verifyElementIndices, verifyScatterNdIndices } from '../verify/operand-shape-checks.js';

function checkedIndex(node: Node, index: number, size: number): number {
  const normalized = index < 0 ? index + size : index;
  if (normalized < 0 || normalized >= size) throw opError(node, `index ${index} is out of bounds for a dimension of size ${size}`);
  return normalized;
}

export const gatherOp = defineCanonicalOp({
  op: 'onnx.Gather',
  summary: 'Takes slices along an axis at the given (possibly negative) indices',
  inputs: [{ name: 'data' }, { name: 'indices' }],
  outputs: [{ name: 'output' }],
  attributes: { axis: { kind: 'int', default: 0 } },
  verify: verifyGatherIndices,
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    const indices = inputShape(context, 1);
    if (!type) return [undefined];
    if (!type.shape) return [tensorType(type.dtype, null)];
    const axis = axisOrRefuse(context.node, context.node.attr('axis', 'int', 0), type.shape);
    if (!indices) return [tensorType(type.dtype, null)];
    return [tensorType(type.dtype, [...type.shape.slice(0, axis), ...indices, ...type.shape.slice(axis + 1)])];
  },
  kernel(inputs, { node }) {
    const data = inputTensor(inputs, 0, node);
    const indicesT = inputTensor(inputs, 1, node);
    const axis = normalizeAxis(node.attr('axis', 'int', 0), data.rank, node);
    const indices = readInts(indicesT).map((i) => checkedIndex(node, i, data.shape[axis]!));
    const outer = sizeOf(data.shape.slice(0, axis));
    const inner = sizeOf(data.shape.slice(axis + 1));
    const outShape = [...data.shape.slice(0, axis), ...indicesT.shape, ...data.shape.slice(axis + 1)];
    const map = new Int32Array(sizeOf(outShape));
    let flat = 0;
    for (let o = 0; o < outer; o++) {
      for (const index of indices) {
        const base = (o * data.shape[axis]! + index) * inner;
        for (let i = 0; i < inner; i++) map[flat++] = base + i;
      }
    }
    return [gatherElements(data, outShape, map)];
  },
});

export const gatherElementsOp = defineCanonicalOp({
  op: 'onnx.GatherElements',
  summary: 'out[i][j] = data[index[i][j]][j] (axis 0), elementwise gathering along an axis',
  inputs: [{ name: 'data' }, { name: 'indices' }],
  outputs: [{ name: 'output' }],
  attributes: { axis: { kind: 'int', default: 0 } },
  verify: verifyElementIndices,
  inferTypes: (context) => [typeOf(inputTensorType(context, 0)?.dtype, inputShape(context, 1) ?? null)],
  kernel(inputs, { node }) {
    const data = inputTensor(inputs, 0, node);
    const indicesT = inputTensor(inputs, 1, node);
    const axis = normalizeAxis(node.attr('axis', 'int', 0), data.rank, node);
    const indices = readInts(indicesT);
    const strides = stridesOf(data.shape);
    const map = new Int32Array(indicesT.size);
    forEachIndex(indicesT.shape, (index, flat) => {
      let offset = 0;
      for (let d = 0; d < index.length; d++) {
        const at = d === axis ? checkedIndex(node, indices[flat]!, data.shape[axis]!) : index[d]!;
        offset += at * strides[d]!;
      }
      map[flat] = offset;
    });
    return [gatherElements(data, indicesT.shape, map)];
  },
});

/** For each index tuple of GatherND/ScatterND: the flat offset of the addressed slice and the slice size. */
function ndOffsets(node: Node, data: Tensor, indicesT: Tensor, batchDims: number): { offsets: number[]; sliceSize: number; sliceShape: number[] } {
  const k = indicesT.shape[indicesT.rank - 1]!;
  if (k > data.rank - batchDims) throw opError(node, `index tuples of length ${k} address more than the data's rank`);
  const indices = readInts(indicesT);
  const strides = stridesOf(data.shape);
  const sliceShape = data.shape.slice(batchDims + k);
  const sliceSize = sizeOf(sliceShape);
  const count = sizeOf(indicesT.shape.slice(0, -1));
  const tuplesPerBatch = sizeOf(indicesT.shape.slice(batchDims, -1));
  const batchStride = sizeOf(data.shape.slice(batchDims));
  const offsets: number[] = [];
  for (let t = 0; t < count; t++) {
    let offset = Math.floor(t / Math.max(tuplesPerBatch, 1)) * batchStride;
    for (let j = 0; j < k; j++) offset += checkedIndex(node, indices[t * k + j]!, data.shape[batchDims + j]!) * strides[batchDims + j]!;
    offsets.push(offset);
  }
  return { offsets, sliceSize, sliceShape };
}

export const gatherNDOp = defineCanonicalOp({
  op: 'onnx.GatherND',
  summary: 'Gathers slices addressed by index tuples (the last indices dimension), after batch_dims',
  inputs: [{ name: 'data' }, { name: 'indices' }],
  outputs: [{ name: 'output' }],
  attributes: { batch_dims: { kind: 'int', default: 0 } },
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    const indices = inputShape(context, 1);
    if (!type) return [undefined];
    const k = indices?.[indices.length - 1];
    if (!type.shape || !indices || typeof k !== 'number') return [tensorType(type.dtype, null)];
    const batchDims = context.node.attr('batch_dims', 'int', 0);
    return [tensorType(type.dtype, [...indices.slice(0, -1), ...type.shape.slice(batchDims + k)] as Dim[])];
  },
  kernel(inputs, { node }) {
    const data = inputTensor(inputs, 0, node);
    const indicesT = inputTensor(inputs, 1, node);
    const batchDims = node.attr('batch_dims', 'int', 0);
    const { offsets, sliceSize, sliceShape } = ndOffsets(node, data, indicesT, batchDims);
    const outShape = [...indicesT.shape.slice(0, -1), ...sliceShape];
    const map = new Int32Array(offsets.length * sliceSize);
    offsets.forEach((offset, t) => {
      for (let i = 0; i < sliceSize; i++) map[t * sliceSize + i] = offset + i;
    });
    return [gatherElements(data, outShape, map)];
  },
});

type Reduction = (a: number, b: number) => number;
const reductions: Record<string, Reduction> = {
  add: (a, b) => a + b,
  mul: (a, b) => a * b,
  max: (a, b) => Math.max(a, b),
  min: (a, b) => Math.min(a, b),
};

/** Writes `updates[u]` at `targets[u]` of `data`, with an optional reduction. */
function scatter(node: Node, data: Tensor, updates: Tensor, targets: ArrayLike<number>): Tensor {
  const reduction = node.attr('reduction', 'string', 'none');
  if (reduction === 'none') {
    const map = Int32Array.from({ length: data.size }, (_, i) => i);
    const which = new Int32Array(data.size);
    for (let u = 0; u < targets.length; u++) {
      map[targets[u]!] = u;
      which[targets[u]!] = 1;
    }
    return gatherElements([data, updates], data.shape, map, which);
  }
  const combine = reductions[reduction];
  if (!combine) throw opError(node, `unknown reduction '${reduction}'`, { expected: 'none, add, mul, max or min' });
  const values = Float64Array.from(readNumbers(data));
  const updateValues = readNumbers(updates);
  for (let u = 0; u < targets.length; u++) values[targets[u]!] = combine(values[targets[u]!]!, updateValues[u]!);
  return tensorFromNumbers(data.dtype, data.shape, values);
}

export const scatterNDOp = defineCanonicalOp({
  op: 'onnx.ScatterND',
  summary: 'Copies data and writes update slices at index tuples (reduction none/add/mul/max/min)',
  inputs: [{ name: 'data' }, { name: 'indices' }, { name: 'updates' }],
  outputs: [{ name: 'output' }],
  attributes: { reduction: { kind: 'string', default: 'none', oneOf: ['none', 'add', 'mul', 'max', 'min'] } },
  verify: verifyScatterNdIndices,
  inferTypes: (context) => [inputTensorType(context, 0)],
  kernel(inputs, { node }) {
    const data = inputTensor(inputs, 0, node);
    const indicesT = inputTensor(inputs, 1, node);
    const updates = inputTensor(inputs, 2, node);
    const { offsets, sliceSize } = ndOffsets(node, data, indicesT, 0);
    if (offsets.length * sliceSize !== updates.size) throw opError(node, `updates [${updates.shape.join(',')}] do not match the addressed slices`);
    const targets = new Int32Array(updates.size);
    offsets.forEach((offset, t) => {
      for (let i = 0; i < sliceSize; i++) targets[t * sliceSize + i] = offset + i;
    });
    return [scatter(node, data, updates, targets)];
  },
});

export const scatterElementsOp = defineCanonicalOp({
  op: 'onnx.ScatterElements',
  summary: 'Copies data and writes updates along an axis at per-element indices (with optional reduction)',
  inputs: [{ name: 'data' }, { name: 'indices' }, { name: 'updates' }],
  outputs: [{ name: 'output' }],
  attributes: { axis: { kind: 'int', default: 0 }, reduction: { kind: 'string', default: 'none', oneOf: ['none', 'add', 'mul', 'max', 'min'] } },
  verify: verifyElementIndices,
  inferTypes: (context) => [inputTensorType(context, 0)],
  kernel(inputs, { node }) {
    const data = inputTensor(inputs, 0, node);
    const indicesT = inputTensor(inputs, 1, node);
    const updates = inputTensor(inputs, 2, node);
    const axis = normalizeAxis(node.attr('axis', 'int', 0), data.rank, node);
    const indices = readInts(indicesT);
    const strides = stridesOf(data.shape);
    const targets = new Int32Array(indicesT.size);
    forEachIndex(indicesT.shape, (index, flat) => {
      let offset = 0;
      for (let d = 0; d < index.length; d++) offset += (d === axis ? checkedIndex(node, indices[flat]!, data.shape[axis]!) : index[d]!) * strides[d]!;
      targets[flat] = offset;
    });
    return [scatter(node, data, updates, targets)];
  },
});

export const gatherScatterOps = [gatherOp, gatherElementsOp, gatherNDOp, scatterNDOp, scatterElementsOp];
