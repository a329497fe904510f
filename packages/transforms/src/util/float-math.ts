import { Tensor, type DType } from '@modelpass/ir';
import { broadcastIndexMap, broadcastShapes } from '@modelpass/ops';

/** Float dtypes whose weights the fusions rewrite (computed in float64, rounded once on store). */
export const FUSIBLE_FLOAT_DTYPES: ReadonlySet<DType> = new Set<DType>(['float32', 'float64']);

/**
 * Largest weight (bytes) a fusion rewrites (256 MiB): fusions compute the new weight whole, in
 * float64, so a larger one is declined with this reason instead of exhausting memory.
 */
export const MAX_FUSED_WEIGHT_BYTES = 256 << 20;

/** Why a fusion leaves `tensor` alone for its size, or undefined when it is small enough. */
export function tooLargeToFuse(tensor: Tensor): string | undefined {
  return tensor.byteLength > MAX_FUSED_WEIGHT_BYTES
    ? `the weight of ${tensor.byteLength} bytes is over the ${MAX_FUSED_WEIGHT_BYTES} bytes a fusion rewrites in memory`
    : undefined;
}

/** Elements of a float tensor widened to float64. */
export function floatsOf(tensor: Tensor): Float64Array {
  if (tensor.dtype === 'float32' || tensor.dtype === 'float64') {
    // One typed-array copy instead of a number[] of every element first.
    const out = new Float64Array(tensor.size);
    out.set(tensor.data() as Float32Array | Float64Array);
    return out;
  }
  return Float64Array.from(tensor.toNumbers());
}

/** A tensor of `dtype` from float64 values (each rounded once to the dtype). */
export function floatTensor(dtype: DType, shape: readonly number[], values: ArrayLike<number>): Tensor {
  return Tensor.fromValues(dtype, shape, values);
}

/**
 * Broadcasts a per-channel constant to a vector of `channels` entries. `tensor` must have every dim
 * equal to 1 except possibly the one at `channelAxis` (counted from the front of a tensor of rank
 * `rank`, right-aligned as in numpy broadcasting). Returns undefined when it does not fit.
 */
export function perChannelVector(tensor: Tensor, rank: number, channelAxis: number, channels: number): Float64Array | undefined {
  const shape = tensor.shape;
  if (shape.length > rank) return undefined;
  const offset = rank - shape.length;
  let channelDim = 1;
  for (let i = 0; i < shape.length; i++) {
    const axis = i + offset;
    if (axis === channelAxis) channelDim = shape[i]!;
    else if (shape[i] !== 1) return undefined;
  }
  if (channelDim !== 1 && channelDim !== channels) return undefined;
  const values = floatsOf(tensor);
  const out = new Float64Array(channels);
  for (let c = 0; c < channels; c++) out[c] = values[channelDim === 1 ? 0 : c]!;
  return out;
}

/** A small dense float64 array with a shape, for computing fused weights. */
export interface DenseArray {
  shape: number[];
  values: Float64Array;
}

export function denseOf(tensor: Tensor): DenseArray {
  return { shape: [...tensor.shape], values: floatsOf(tensor) };
}

/** Elementwise `fn(a, b)` with numpy broadcasting; undefined when the shapes do not broadcast. */
export function broadcastBinary(a: DenseArray, b: DenseArray, fn: (x: number, y: number) => number): DenseArray | undefined {
  const shape = broadcastShapes([a.shape, b.shape]) as number[] | undefined;
  if (!shape) return undefined;
  const fromA = broadcastIndexMap(a.shape, shape);
  const fromB = broadcastIndexMap(b.shape, shape);
  const values = new Float64Array(fromA.length);
  for (let i = 0; i < values.length; i++) values[i] = fn(a.values[fromA[i]!]!, b.values[fromB[i]!]!);
  return { shape, values };
}

/** Multiplies slices of `weights` along `axis` by `scale[channelOf(i)]`. */
export function scaleAlongAxis(weights: DenseArray, axis: number, scaleAt: (index: number) => number): Float64Array {
  const values = weights.values;
  const out = new Float64Array(values.length);
  const inner = weights.shape.slice(axis + 1).reduce((n, d) => n * d, 1);
  const dim = weights.shape[axis]!;
  // Runs of `inner` elements share a channel: one scale lookup per run.
  for (let start = 0, run = 0; start < out.length; start += inner, run++) {
    const scale = scaleAt(run % dim);
    const end = Math.min(start + inner, out.length);
    for (let i = start; i < end; i++) out[i] = values[i]! * scale;
  }
  return out;
}
