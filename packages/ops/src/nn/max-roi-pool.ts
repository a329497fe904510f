/**
 * MaxRoiPool (opset 1) as ONNX Runtime computes it: each region `[batch, x1, y1, x2, y2]` is scaled
 * and rounded (half away from zero) to whole pixels, split into pooled_shape bins with floor/ceil
 * edges (clipped to the image), and each bin takes its maximum; an empty bin is 0.
 */
import { tensorType, type Dim } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { readNumbers } from '../util/elements.js';
import { inputShape, inputTensorType } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { tensorFromNumbers } from './kernel-helpers.js';

/** std::round: half away from zero. */
export function roundHalfAway(value: number): number {
  return Math.sign(value) * Math.floor(Math.abs(value) + 0.5);
}

/** The [start, end) pixel range of bin `index` of `bins` over a region starting at `start` of `length` pixels, clipped to [0, size]. */
export function roiBinRange(index: number, bins: number, start: number, length: number, size: number): [number, number] {
  const binSize = length / bins;
  const from = Math.min(Math.max(Math.floor(index * binSize) + start, 0), size);
  const to = Math.min(Math.max(Math.ceil((index + 1) * binSize) + start, 0), size);
  return [from, to];
}

export const maxRoiPoolOp = defineCanonicalOp({
  op: 'onnx.MaxRoiPool',
  summary: 'Max pooling of regions of interest [R, 5] (batch, x1, y1, x2, y2) into [R, C, pooled_h, pooled_w]',
  inputs: [{ name: 'X' }, { name: 'rois' }],
  outputs: [{ name: 'Y' }],
  attributes: { pooled_shape: { kind: 'ints', required: true }, spatial_scale: { kind: 'float', default: 1 } },
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined];
    const pooled = context.node.attr('pooled_shape', 'ints');
    const dims: Dim[] = [inputShape(context, 1)?.[0] ?? null, inputShape(context, 0)?.[1] ?? null, pooled[0]!, pooled[1]!];
    return [tensorType(type.dtype, dims)];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const roisT = inputTensor(inputs, 1, node);
    if (x.rank !== 4 || roisT.rank !== 2 || roisT.shape[1] !== 5) throw opError(node, `X [${x.shape.join(',')}] and rois [${roisT.shape.join(',')}] must be [N, C, H, W] and [R, 5]`);
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const [pooledH, pooledW] = node.attr('pooled_shape', 'ints') as [number, number];
    const scale = node.attr('spatial_scale', 'float', 1);
    const data = readNumbers(x);
    const rois = readNumbers(roisT);
    const count = roisT.shape[0]!;
    const out = new Float64Array(count * c * pooledH * pooledW);
    for (let r = 0; r < count; r++) {
      const b = rois[r * 5]!;
      if (!Number.isInteger(b) || b < 0 || b >= n) throw opError(node, `roi ${r} names batch ${b}, outside [0, ${n})`);
      const [x1, y1, x2, y2] = [1, 2, 3, 4].map((k) => roundHalfAway(rois[r * 5 + k]! * scale)) as [number, number, number, number];
      const [roiH, roiW] = [Math.max(y2 - y1 + 1, 1), Math.max(x2 - x1 + 1, 1)];
      for (let k = 0; k < c; k++) {
        const plane = (b * c + k) * h * w;
        for (let ph = 0; ph < pooledH; ph++) {
          const [h0, h1] = roiBinRange(ph, pooledH, y1, roiH, h);
          for (let pw = 0; pw < pooledW; pw++) {
            const [w0, w1] = roiBinRange(pw, pooledW, x1, roiW, w);
            let best = -Infinity;
            for (let yy = h0; yy < h1; yy++) for (let xx = w0; xx < w1; xx++) best = Math.max(best, data[plane + yy * w + xx]!);
            out[((r * c + k) * pooledH + ph) * pooledW + pw] = h1 <= h0 || w1 <= w0 ? 0 : best;
          }
        }
      }
    }
    return [tensorFromNumbers(x.dtype, [count, c, pooledH, pooledW], out)];
  },
});
