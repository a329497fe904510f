/**
 * Pooling: MaxPool (with indices and storage_order), AveragePool (count_include_pad), LpPool,
 * GlobalAveragePool, GlobalMaxPool. N-d with dilations, pads, auto_pad and ceil_mode.
 * Sums accumulate in float64 and round once to the output dtype.
 */
import { tensorType, type Node, type Tensor } from '@modelpass/ir';
import { defineCanonicalOp, type Kernel } from '../op-definition.js';
import { inferWindowDims, kernelPositions, windowAttributes, windowGeometry } from './window-geometry.js';
import { readNumbers, viewNumbers } from '../util/elements.js';
import { inputTensorType } from '../util/inference.js';
import { inputTensor } from '../util/kernel-io.js';
import { sizeOf, stridesOf } from '../util/shape.js';
import { int64Tensor, tensorFromNumbers } from './kernel-helpers.js';
import { verifyPool } from '../verify/window-checks.js';

const poolAttributeSpecs = {
  auto_pad: { kind: 'string', default: 'NOTSET', oneOf: ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] },
  ceil_mode: { kind: 'int', default: 0, oneOf: [0, 1] },
  dilations: { kind: 'ints' },
  kernel_shape: { kind: 'ints', required: true },
  pads: { kind: 'ints' },
  strides: { kind: 'ints' },
} as const;

type WindowReducer = (values: readonly number[], flatIndices: readonly number[], windowCount: number) => number;

interface PoolResult {
  shape: number[];
  values: Float64Array;
  argmax?: Float64Array;
}

/**
 * Runs a window reduction over every (n, c) plane. `reduce` gets the in-bounds values of a window,
 * their flat spatial indices and the number of window positions inside the padded extent.
 */
function poolWindows(node: Node, x: Tensor, reduce: WindowReducer, withArgmax = false): PoolResult {
  const spatial = x.shape.slice(2);
  const window = windowAttributes(node, spatial.length);
  const geometry = windowGeometry(spatial, window);
  const positions = kernelPositions(window.kernel);
  const planes = x.shape[0]! * x.shape[1]!;
  const inSize = sizeOf(spatial);
  const outSize = sizeOf(geometry.outputSize);
  const inStrides = stridesOf(spatial);
  const data = viewNumbers(x);
  const out = new Float64Array(planes * outSize);
  const argmax = withArgmax ? new Float64Array(planes * outSize) : undefined;
  const outIndex = new Array<number>(spatial.length).fill(0);
  for (let o = 0; o < outSize; o++) {
    const taps: number[] = [];
    let windowCount = 0;
    for (const pos of positions) {
      let offset = 0;
      let inside = true;
      let insidePadded = true;
      for (let d = 0; d < pos.length; d++) {
        const at = outIndex[d]! * window.strides[d]! - geometry.padBegin[d]! + pos[d]! * window.dilations[d]!;
        if (at < -geometry.padBegin[d]! || at >= spatial[d]! + geometry.padEnd[d]!) insidePadded = false;
        if (at < 0 || at >= spatial[d]!) inside = false;
        offset += at * inStrides[d]!;
      }
      if (insidePadded) windowCount++;
      if (inside) taps.push(offset);
    }
    const values = taps.slice();
    for (let p = 0; p < planes; p++) {
      const base = p * inSize;
      for (let t = 0; t < taps.length; t++) values[t] = data[base + taps[t]!]!;
      out[p * outSize + o] = reduce(values, taps, windowCount);
      if (argmax) {
        let best = -1;
        for (let t = 0; t < values.length; t++) if (best < 0 || values[t]! > values[best]!) best = t;
        argmax[p * outSize + o] = best < 0 ? -1 : taps[best]!;
      }
    }
    for (let d = spatial.length - 1; d >= 0; d--) {
      if (++outIndex[d]! < geometry.outputSize[d]!) break;
      outIndex[d] = 0;
    }
  }
  return { shape: [x.shape[0]!, x.shape[1]!, ...geometry.outputSize], values: out, ...(argmax ? { argmax } : {}) };
}

function inferPool(context: Parameters<NonNullable<import('@modelpass/ir').OpSchemaInit['inferTypes']>>[0]) {
  const type = inputTensorType(context, 0);
  if (!type) return [undefined, undefined];
  if (!type.shape) return [tensorType(type.dtype, null), tensorType('int64', null)];
  const window = windowAttributes(context.node, type.shape.length - 2);
  const shape = [type.shape[0]!, type.shape[1]!, ...inferWindowDims(type.shape.slice(2), window)];
  return [tensorType(type.dtype, shape), tensorType('int64', shape)];
}

/** Column-major (storage_order 1) flat spatial index from a row-major one. */
function columnMajor(flat: number, spatial: readonly number[]): number {
  const strides = stridesOf(spatial);
  let index = 0;
  let stride = 1;
  for (let d = 0; d < spatial.length; d++) {
    const coordinate = Math.floor(flat / strides[d]!) % spatial[d]!;
    index += coordinate * stride;
    stride *= spatial[d]!;
  }
  return index;
}

export const maxPoolOp = defineCanonicalOp({
  op: 'onnx.MaxPool',
  summary: 'Max over sliding windows; optional flat argmax indices (storage_order picks row or column major)',
  inputs: [{ name: 'X' }],
  outputs: [{ name: 'Y' }, { name: 'Indices', optional: true }],
  attributes: { ...poolAttributeSpecs, storage_order: { kind: 'int', default: 0, oneOf: [0, 1] } },
  verify: verifyPool,
  inferTypes: (context) => inferPool(context).slice(0, context.node.outputs.length),
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const wantIndices = node.outputs.length > 1 && node.outputs[1] !== null;
    const result = poolWindows(node, x, (values) => (values.length === 0 ? -Infinity : values.reduce((a, b) => (b > a || Number.isNaN(b) ? b : a))), wantIndices);
    const y = tensorFromNumbers(x.dtype, result.shape, result.values);
    if (!result.argmax) return [y];
    const spatial = x.shape.slice(2);
    const inSize = sizeOf(spatial);
    const outSize = sizeOf(result.shape.slice(2));
    const columnOrder = node.attr('storage_order', 'int', 0) === 1;
    const indices = Array.from(result.argmax, (flat, i) => {
      const plane = Math.floor(i / outSize);
      return plane * inSize + (columnOrder ? columnMajor(flat, spatial) : flat);
    });
    return [y, int64Tensor(result.shape, indices)];
  },
});

export const averagePoolOp = defineCanonicalOp({
  op: 'onnx.AveragePool',
  summary: 'Mean over sliding windows; count_include_pad counts padded positions in the divisor',
  inputs: [{ name: 'X' }],
  outputs: [{ name: 'Y' }],
  attributes: { ...poolAttributeSpecs, count_include_pad: { kind: 'int', default: 0, oneOf: [0, 1] } },
  verify: verifyPool,
  inferTypes: (context) => inferPool(context).slice(0, 1),
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const includePad = node.attr('count_include_pad', 'int', 0) === 1;
    const result = poolWindows(node, x, (values, _taps, windowCount) => {
      let sum = 0;
      for (const v of values) sum += v;
      return sum / (includePad ? windowCount : values.length);
    });
    return [tensorFromNumbers(x.dtype, result.shape, result.values)];
  },
});

export const lpPoolOp = defineCanonicalOp({
  op: 'onnx.LpPool',
  summary: 'Lp norm over sliding windows: (Σ|x|^p)^(1/p)',
  inputs: [{ name: 'X' }],
  outputs: [{ name: 'Y' }],
  attributes: { ...poolAttributeSpecs, p: { kind: 'int', default: 2 } },
  verify: verifyPool,
  inferTypes: (context) => inferPool(context).slice(0, 1),
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const p = node.attr('p', 'int', 2);
    const result = poolWindows(node, x, (values) => {
      let sum = 0;
      for (const v of values) sum += Math.abs(v) ** p;
      return sum ** (1 / p);
    });
    return [tensorFromNumbers(x.dtype, result.shape, result.values)];
  },
});

function globalPool(op: string, summary: string, reduce: (values: ArrayLike<number>, start: number, count: number) => number) {
  const kernel: Kernel = (inputs, { node }) => {
    const x = inputTensor(inputs, 0, node);
    const planes = x.shape[0]! * x.shape[1]!;
    const size = sizeOf(x.shape.slice(2));
    const data = readNumbers(x);
    const out = new Float64Array(planes);
    for (let p = 0; p < planes; p++) out[p] = reduce(data, p * size, size);
    return [tensorFromNumbers(x.dtype, [x.shape[0]!, x.shape[1]!, ...x.shape.slice(2).map(() => 1)], out)];
  };
  return defineCanonicalOp({
    op,
    summary,
    inputs: [{ name: 'X' }],
    outputs: [{ name: 'Y' }],
    inferTypes(context) {
      const type = inputTensorType(context, 0);
      if (!type) return [undefined];
      return [tensorType(type.dtype, type.shape ? [type.shape[0]!, type.shape[1]!, ...type.shape.slice(2).map(() => 1)] : null)];
    },
    kernel,
  });
}

export const globalAveragePoolOp = globalPool('onnx.GlobalAveragePool', 'Mean over all spatial positions', (data, start, count) => {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += data[start + i]!;
  return sum / count;
});

export const globalMaxPoolOp = globalPool('onnx.GlobalMaxPool', 'Max over all spatial positions', (data, start, count) => {
  let best = -Infinity;
  for (let i = 0; i < count; i++) best = Math.max(best, data[start + i]!);
  return best;
});

export const poolOps = [maxPoolOp, averagePoolOp, lpPoolOp, globalAveragePoolOp, globalMaxPoolOp];
