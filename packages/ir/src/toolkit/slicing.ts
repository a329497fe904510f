import { dtypeInfo } from '../dtype.js';
import type { ElementValues } from '../element-codec.js';
import { Tensor } from '../tensor.js';
import { axisLayout, toolkitError } from './layout.js';

/**
 * How to fill an output: its shape, and for each position along the axis which source slice goes
 * there (one routine serves take, slice and concat).
 */
interface Gather {
  readonly shape: readonly number[];
  /** For output axis position `j`: the source tensor and its axis index. */
  readonly pick: (j: number) => { readonly source: Tensor; readonly index: number };
}

function gather(template: Tensor, axis: number, plan: Gather): Tensor {
  const out = axisLayout(plan.shape, axis);
  const dtype = template.dtype;
  if (dtype === 'string') {
    const values: string[] = [];
    for (let o = 0; o < out.outer; o++) {
      for (let j = 0; j < out.dim; j++) {
        const { source, index } = plan.pick(j);
        const dim = source.shape[out.axis]!;
        const start = (o * dim + index) * out.inner;
        values.push(...source.strings!.slice(start, start + out.inner));
      }
    }
    return Tensor.fromStrings(plan.shape, values);
  }
  const bits = dtypeInfo(dtype).bits;
  if (bits % 8 === 0) {
    const width = (bits / 8) * out.inner;
    const bytes = new Uint8Array(out.outer * out.dim * width);
    const cache = new Map<Tensor, Uint8Array>();
    let offset = 0;
    for (let o = 0; o < out.outer; o++) {
      for (let j = 0; j < out.dim; j++) {
        const { source, index } = plan.pick(j);
        let sourceBytes = cache.get(source);
        if (!sourceBytes) cache.set(source, (sourceBytes = source.bytes()));
        const start = (o * source.shape[out.axis]! + index) * width;
        bytes.set(sourceBytes.subarray(start, start + width), offset);
        offset += width;
      }
    }
    return Tensor.fromBytes(dtype, plan.shape, bytes, template.quant);
  }
  // Packed sub-byte integers: move element values instead of bytes.
  const values: number[] = [];
  const cache = new Map<Tensor, number[]>();
  for (let o = 0; o < out.outer; o++) {
    for (let j = 0; j < out.dim; j++) {
      const { source, index } = plan.pick(j);
      let sourceValues = cache.get(source);
      if (!sourceValues) cache.set(source, (sourceValues = source.toNumbers()));
      const start = (o * source.shape[out.axis]! + index) * out.inner;
      for (let k = 0; k < out.inner; k++) values.push(sourceValues[start + k]!);
    }
  }
  return Tensor.fromValues(dtype, plan.shape, values as ElementValues, template.quant);
}

/** The slices `indices` of `tensor` along `axis`, in that order (like ONNX Gather with 1-D indices). */
export function takeAlongAxis(tensor: Tensor, axis: number, indices: readonly number[]): Tensor {
  const layout = axisLayout(tensor.shape, axis);
  for (const index of indices) {
    if (!Number.isInteger(index) || index < 0 || index >= layout.dim) {
      throw toolkitError(`index ${index} is out of range along axis ${layout.axis} of size ${layout.dim}`, { expected: `an integer in [0, ${layout.dim - 1}]` });
    }
  }
  const shape = [...tensor.shape];
  shape[layout.axis] = indices.length;
  return gather(tensor, layout.axis, { shape, pick: (j) => ({ source: tensor, index: indices[j]! }) });
}

/** Slices `[start, end)` of `tensor` along `axis` (step 1; negative bounds count from the end). */
export function sliceAlongAxis(tensor: Tensor, axis: number, start: number, end: number = Number.POSITIVE_INFINITY): Tensor {
  const { dim } = axisLayout(tensor.shape, axis);
  const clamp = (bound: number) => Math.min(dim, Math.max(0, bound < 0 ? bound + dim : bound));
  const from = clamp(start);
  const to = Math.max(from, clamp(end));
  return takeAlongAxis(tensor, axis, Array.from({ length: to - from }, (_, i) => from + i));
}

/** Concatenates tensors of one dtype whose shapes agree except along `axis`. */
export function concatAlongAxis(tensors: readonly Tensor[], axis: number): Tensor {
  const first = tensors[0];
  if (!first) throw toolkitError('concatAlongAxis needs at least one tensor');
  const normalized = axisLayout(first.shape, axis).axis;
  const picks: { source: Tensor; index: number }[] = [];
  for (const tensor of tensors) {
    const agrees = tensor.dtype === first.dtype && tensor.rank === first.rank && tensor.shape.every((d, i) => i === normalized || d === first.shape[i]);
    if (!agrees) {
      throw toolkitError(`cannot concatenate ${tensor.dtype}[${tensor.shape.join(',')}] with ${first.dtype}[${first.shape.join(',')}] along axis ${normalized}`, {
        expected: 'the same dtype and the same dims except along the axis',
      });
    }
    for (let index = 0; index < tensor.shape[normalized]!; index++) picks.push({ source: tensor, index });
  }
  const shape = [...first.shape];
  shape[normalized] = picks.length;
  return gather(first, normalized, { shape, pick: (j) => picks[j]! });
}
