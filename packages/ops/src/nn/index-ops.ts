/**
 * NonZero, TopK, OneHot, Trilu, DepthToSpace, SpaceToDepth.
 */
import { tensorType, type Dim, type Tensor } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { transposeTensor } from './shape-ops.js';
import { readInts, readNumbers } from '../util/elements.js';
import { constantInts, hasInput, inputShape, inputTensorType, normalizeAxisForInference, typeOf } from '../util/inference.js';
import { inputTensor, opError, optionalInputTensor } from '../util/kernel-io.js';
import { normalizeAxis, sizeOf } from '../util/shape.js';
import { forEachIndex, gatherElements, int64Tensor, zeroScalar } from './kernel-helpers.js';
import { verifyTopK } from '../verify/operand-value-checks.js';
import { refuseShape } from '../util/shape-refusal.js';
import { verifyBlockSize, verifyNonNegativeOperand } from '../verify/attribute-range-checks.js';

export const nonZeroOp = defineCanonicalOp({
  op: 'onnx.NonZero',
  summary: 'Indices of non-zero elements as int64 [rank, count], in row-major order',
  inputs: [{ name: 'X' }],
  outputs: [{ name: 'Y' }],
  inferTypes(context) {
    const shape = inputShape(context, 0);
    return [tensorType('int64', [shape ? shape.length : null, null])];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const data = x.dtype === 'string' ? x.strings!.map((s) => (s === '' ? 0 : 1)) : readNumbers(x);
    const found: number[][] = [];
    forEachIndex(x.shape, (index, flat) => {
      if (data[flat] !== 0) found.push([...index]);
    });
    if (x.rank === 0 && data[0] !== 0) found.push([]);
    const rank = x.rank;
    const values = new Array<number>(rank * found.length);
    found.forEach((index, k) => index.forEach((v, d) => (values[d * found.length + k] = v)));
    return [int64Tensor([rank, found.length], values)];
  },
});

export const topKOp = defineCanonicalOp({
  op: 'onnx.TopK',
  summary: 'The k largest (or smallest) elements along an axis and their int64 indices; ties keep the lower index',
  inputs: [{ name: 'X' }, { name: 'K', optional: true }],
  outputs: [{ name: 'Values' }, { name: 'Indices' }],
  attributes: { axis: { kind: 'int', default: -1 }, largest: { kind: 'int', default: 1 }, sorted: { kind: 'int', default: 1 }, k: { kind: 'int' } },
  verify: verifyTopK,
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined, undefined];
    if (!type.shape) return [tensorType(type.dtype, null), tensorType('int64', null)];
    const axis = normalizeAxisForInference(context.node.attr('axis', 'int', -1), type.shape.length);
    const k = hasInput(context.node, 1) ? constantInts(context, 1)?.[0] : context.node.optionalAttr('k', 'int');
    const shape: Dim[] = type.shape.map((d, i) => (i === axis ? (k ?? null) : d));
    return [tensorType(type.dtype, shape), tensorType('int64', shape)];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const kT = optionalInputTensor(inputs, 1, node);
    const k = kT ? readInts(kT)[0]! : node.attr('k', 'int');
    const axis = normalizeAxis(node.attr('axis', 'int', -1), x.rank, node);
    const largest = node.attr('largest', 'int', 1) === 1;
    const length = x.shape[axis]!;
    if (k < 0 || k > length) throw opError(node, `k = ${k} is out of range for an axis of size ${length}`);
    const data = readNumbers(x);
    const outer = sizeOf(x.shape.slice(0, axis));
    const inner = sizeOf(x.shape.slice(axis + 1));
    const outShape = x.shape.map((d, i) => (i === axis ? k : d));
    const sourceMap = new Int32Array(sizeOf(outShape));
    const indices = new Array<number>(sourceMap.length);
    const order = Array.from({ length }, (_, i) => i);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const at = (j: number) => data[(o * length + j) * inner + i]!;
        order.sort((a, b) => {
          const [va, vb] = [at(a), at(b)];
          if (va !== vb) return largest ? (va > vb || Number.isNaN(va) ? -1 : 1) : va < vb || Number.isNaN(vb) ? -1 : 1;
          return a - b;
        });
        for (let j = 0; j < k; j++) {
          const flat = (o * k + j) * inner + i;
          sourceMap[flat] = (o * length + order[j]!) * inner + i;
          indices[flat] = order[j]!;
        }
      }
    }
    return [gatherElements(x, outShape, sourceMap), int64Tensor(outShape, indices)];
  },
});

export const oneHotOp = defineCanonicalOp({
  op: 'onnx.OneHot',
  summary: 'One-hot encoding: depth inserted at axis, values = [off, on]; negative indices count from depth',
  inputs: [{ name: 'indices' }, { name: 'depth' }, { name: 'values' }],
  outputs: [{ name: 'output' }],
  attributes: { axis: { kind: 'int', default: -1 } },
  verify: verifyNonNegativeOperand(1, 'depth', 1),
  inferTypes(context) {
    const dtype = inputTensorType(context, 2)?.dtype;
    const shape = inputShape(context, 0);
    if (!shape) return [typeOf(dtype, null)];
    const rank = shape.length + 1;
    const raw = context.node.attr('axis', 'int', -1);
    const axis = raw < 0 ? raw + rank : raw;
    const depth = context.inputConstant(1) ? Math.trunc(readNumbers(context.inputConstant(1)!)[0]!) : null;
    return [typeOf(dtype, [...shape.slice(0, axis), depth, ...shape.slice(axis)])];
  },
  kernel(inputs, { node }) {
    const indicesT = inputTensor(inputs, 0, node);
    const depth = Math.trunc(readNumbers(inputTensor(inputs, 1, node))[0]!);
    const values = inputTensor(inputs, 2, node);
    if (values.size !== 2) throw opError(node, 'values must hold [off_value, on_value]');
    const rank = indicesT.rank + 1;
    const raw = node.attr('axis', 'int', -1);
    const axis = raw < 0 ? raw + rank : raw;
    if (axis < 0 || axis >= rank) throw opError(node, `axis ${raw} is out of range for output rank ${rank}`);
    const indices = readNumbers(indicesT);
    const outShape = [...indicesT.shape.slice(0, axis), depth, ...indicesT.shape.slice(axis)];
    const outer = sizeOf(indicesT.shape.slice(0, axis));
    const inner = sizeOf(indicesT.shape.slice(axis));
    const map = new Int32Array(sizeOf(outShape));
    for (let o = 0; o < outer; o++) {
      for (let d = 0; d < depth; d++) {
        for (let i = 0; i < inner; i++) {
          let index = Math.trunc(indices[o * inner + i]!);
          if (index < 0) index += depth;
          map[(o * depth + d) * inner + i] = index === d ? 1 : 0;
        }
      }
    }
    return [gatherElements(values.reshape([2]), outShape, map)];
  },
});

export const triluOp = defineCanonicalOp({
  op: 'onnx.Trilu',
  summary: 'Keeps the upper (or lower) triangle of the last two dims, offset by k; zeros elsewhere',
  inputs: [{ name: 'input' }, { name: 'k', optional: true }],
  outputs: [{ name: 'output' }],
  attributes: { upper: { kind: 'int', default: 1 } },
  inferTypes(context) {
    // k is one number (ONNX Runtime accepts a scalar or a 1-element vector and fails at run time otherwise).
    const k = hasInput(context.node, 1) ? inputShape(context, 1) : undefined;
    if (k && !(k.length === 0 || (k.length === 1 && (k[0] === 1 || typeof k[0] !== 'number'))))
      refuseShape(context.node, 'trilu-k', `k '${context.node.inputs[1]!.name}' [${k.join(',')}] is not one number`, { expected: 'k a scalar or a 1-element vector (int64)', actual: `[${k.join(',')}]` });
    return [inputTensorType(context, 0)];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const kT = optionalInputTensor(inputs, 1, node);
    if (kT && kT.size !== 1) throw opError(node, `k must be one number`, { actual: `[${kT.shape}]` });
    const k = kT ? readInts(kT)[0]! : 0;
    const upper = node.attr('upper', 'int', 1) === 1;
    const [rows, cols] = [x.shape[x.rank - 2]!, x.shape[x.rank - 1]!];
    const zeroTensor = zeroScalar(x.dtype);
    const map = new Int32Array(x.size);
    const which = new Int32Array(x.size);
    for (let flat = 0, end = x.size; flat < end; flat++) {
      const j = flat % cols;
      const i = Math.floor(flat / cols) % rows;
      const keep = upper ? j - i >= k : j - i <= k;
      map[flat] = keep ? flat : 0;
      which[flat] = keep ? 0 : 1;
    }
    return [gatherElements([x, zeroTensor], x.shape, map, which)];
  },
});

function blockRearrange(x: Tensor, blocksize: number, toSpace: boolean, crd: boolean): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const b = blocksize;
  if (toSpace) {
    const channels = c / (b * b);
    const staged = crd ? x.reshape([n, channels, b, b, h, w]) : x.reshape([n, b, b, channels, h, w]);
    const perm = crd ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2];
    return transposeTensor(staged, perm).reshape([n, channels, h * b, w * b]);
  }
  const staged = x.reshape([n, c, h / b, b, w / b, b]);
  return transposeTensor(staged, [0, 3, 5, 1, 2, 4]).reshape([n, c * b * b, h / b, w / b]);
}

export const depthToSpaceOp = defineCanonicalOp({
  op: 'onnx.DepthToSpace',
  summary: 'Moves channel blocks into spatial blocks (DCR or CRD order)',
  inputs: [{ name: 'input' }],
  outputs: [{ name: 'output' }],
  attributes: { blocksize: { kind: 'int', required: true }, mode: { kind: 'string', default: 'DCR', oneOf: ['DCR', 'CRD'] } },
  verify: verifyBlockSize('depth-to-space'),
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    const b = context.node.attr('blocksize', 'int');
    if (!type?.shape || type.shape.length !== 4) return [type ? tensorType(type.dtype, type.shape ? type.shape.map(() => null) : null) : undefined];
    const [n, c, h, w] = type.shape as [Dim, Dim, Dim, Dim];
    const scale = (d: Dim, f: number) => (typeof d === 'number' ? d * f : null);
    return [tensorType(type.dtype, [n, typeof c === 'number' ? c / (b * b) : null, scale(h, b), scale(w, b)])];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const b = node.attr('blocksize', 'int');
    if (x.rank !== 4 || x.shape[1]! % (b * b) !== 0) throw opError(node, `input [${x.shape.join(',')}] is not 4-D with channels divisible by ${b * b}`);
    return [blockRearrange(x, b, true, node.attr('mode', 'string', 'DCR') === 'CRD')];
  },
});

export const spaceToDepthOp = defineCanonicalOp({
  op: 'onnx.SpaceToDepth',
  summary: 'Moves spatial blocks into channels',
  inputs: [{ name: 'input' }],
  outputs: [{ name: 'output' }],
  attributes: { blocksize: { kind: 'int', required: true } },
  verify: verifyBlockSize('space-to-depth'),
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    const b = context.node.attr('blocksize', 'int');
    if (!type?.shape || type.shape.length !== 4) return [type ? tensorType(type.dtype, type.shape ? type.shape.map(() => null) : null) : undefined];
    const [n, c, h, w] = type.shape as [Dim, Dim, Dim, Dim];
    const div = (d: Dim, f: number) => (typeof d === 'number' ? d / f : null);
    return [tensorType(type.dtype, [n, typeof c === 'number' ? c * b * b : null, div(h, b), div(w, b)])];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const b = node.attr('blocksize', 'int');
    if (x.rank !== 4 || x.shape[2]! % b !== 0 || x.shape[3]! % b !== 0) throw opError(node, `input [${x.shape.join(',')}] is not 4-D with spatial dims divisible by ${b}`);
    return [blockRearrange(x, b, false, false)];
  },
});

export const indexOps = [nonZeroOp, topKOp, oneHotOp, triluOp, depthToSpaceOp, spaceToDepthOp];

