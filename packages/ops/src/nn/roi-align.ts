/**
 * RoiAlign (opset 10 and 16) as ONNX Runtime computes it: per region of interest `[x1, y1, x2, y2]`
 * (scaled by spatial_scale, shifted by half a pixel in half_pixel mode), an output_height ×
 * output_width grid of bins, each averaging (avg) or taking the max (max) of sampling_ratio² bilinear
 * samples (sampling_ratio 0: ⌈roi size / output size⌉ per axis). Samples more than one pixel outside
 * count as 0; max mode takes the largest weighted corner of each sample, as ONNX Runtime does.
 */
import { tensorType, type Dim } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { readInts, readNumbers } from '../util/elements.js';
import { inputShape, inputTensorType } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { tensorFromNumbers } from './kernel-helpers.js';

/** Whether the node uses half_pixel coordinates (opset 16's default; opset 10 has no attribute and does not). */
export function roiAlignHalfPixel(mode: string | undefined, opset: number): boolean {
  return (mode ?? (opset >= 16 ? 'half_pixel' : 'output_half_pixel')) === 'half_pixel';
}

/** The four corner taps (weights and clamped pixel coordinates) of one sample, or undefined when it lies outside. */
export function roiAlignTaps(y: number, x: number, height: number, width: number): { weights: number[]; rows: number[]; columns: number[] } | undefined {
  if (y < -1 || y > height || x < -1 || x > width) return undefined;
  const cy = Math.min(Math.max(y, 0), height - 1);
  const cx = Math.min(Math.max(x, 0), width - 1);
  const [y0, x0] = [Math.floor(cy), Math.floor(cx)];
  const [y1, x1] = [Math.min(y0 + 1, height - 1), Math.min(x0 + 1, width - 1)];
  const [ly, lx] = [cy - y0, cx - x0];
  return { weights: [(1 - ly) * (1 - lx), (1 - ly) * lx, ly * (1 - lx), ly * lx], rows: [y0, y0, y1, y1], columns: [x0, x1, x0, x1] };
}

export const roiAlignOp = defineCanonicalOp({
  op: 'onnx.RoiAlign',
  summary: 'Bilinear region-of-interest pooling (avg or max) of rois [R, 4] into [R, C, output_height, output_width]',
  inputs: [{ name: 'X' }, { name: 'rois' }, { name: 'batch_indices' }],
  outputs: [{ name: 'Y' }],
  attributes: {
    coordinate_transformation_mode: { kind: 'string', oneOf: ['half_pixel', 'output_half_pixel'] },
    mode: { kind: 'string', default: 'avg', oneOf: ['avg', 'max'] },
    output_height: { kind: 'int', default: 1 },
    output_width: { kind: 'int', default: 1 },
    sampling_ratio: { kind: 'int', default: 0 },
    spatial_scale: { kind: 'float', default: 1 },
  },
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined];
    const x = inputShape(context, 0);
    const rois = inputShape(context, 1);
    const node = context.node;
    const dims: Dim[] = [rois?.[0] ?? null, x?.[1] ?? null, node.attr('output_height', 'int', 1), node.attr('output_width', 'int', 1)];
    return [tensorType(type.dtype, dims)];
  },
  kernel(inputs, { node, opset }) {
    const x = inputTensor(inputs, 0, node);
    const roisT = inputTensor(inputs, 1, node);
    const batch = readInts(inputTensor(inputs, 2, node));
    if (x.rank !== 4) throw opError(node, `X must be [N, C, H, W], not [${x.shape.join(',')}]`);
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const count = roisT.shape[0] ?? 0;
    if (roisT.rank !== 2 || roisT.shape[1] !== 4 || batch.length !== count) throw opError(node, `rois [${roisT.shape.join(',')}] and batch_indices [${batch.length}] do not match`, { expected: '[R, 4] and [R]' });
    const [outH, outW] = [node.attr('output_height', 'int', 1), node.attr('output_width', 'int', 1)];
    const ratio = node.attr('sampling_ratio', 'int', 0);
    const scale = node.attr('spatial_scale', 'float', 1);
    const max = node.attr('mode', 'string', 'avg') === 'max';
    const halfPixel = roiAlignHalfPixel(node.optionalAttr('coordinate_transformation_mode', 'string'), opset);
    const offset = halfPixel ? 0.5 : 0;
    const data = readNumbers(x);
    const rois = readNumbers(roisT);
    const out = new Float64Array(count * c * outH * outW);
    for (let r = 0; r < count; r++) {
      const b = batch[r]!;
      if (b < 0 || b >= n) throw opError(node, `batch index ${b} of roi ${r} is outside [0, ${n})`);
      const [startW, startH] = [rois[r * 4]! * scale - offset, rois[r * 4 + 1]! * scale - offset];
      let [roiW, roiH] = [rois[r * 4 + 2]! * scale - offset - startW, rois[r * 4 + 3]! * scale - offset - startH];
      if (!halfPixel) [roiW, roiH] = [Math.max(roiW, 1), Math.max(roiH, 1)];
      const [binH, binW] = [roiH / outH, roiW / outW];
      const [gridH, gridW] = ratio > 0 ? [ratio, ratio] : [Math.ceil(roiH / outH), Math.ceil(roiW / outW)];
      const samples = Math.max(gridH * gridW, 1);
      for (let k = 0; k < c; k++) {
        const plane = (b * c + k) * h * w;
        for (let ph = 0; ph < outH; ph++) {
          for (let pw = 0; pw < outW; pw++) {
            let sum = 0;
            let best = -Infinity;
            for (let iy = 0; iy < gridH; iy++) {
              const y = startH + ph * binH + ((iy + 0.5) * binH) / gridH;
              for (let ix = 0; ix < gridW; ix++) {
                const xx = startW + pw * binW + ((ix + 0.5) * binW) / gridW;
                const taps = roiAlignTaps(y, xx, h, w);
                const values = taps ? taps.weights.map((weight, t) => weight * data[plane + taps.rows[t]! * w + taps.columns[t]!]!) : [0, 0, 0, 0];
                sum += values[0]! + values[1]! + values[2]! + values[3]!;
                best = Math.max(best, ...values);
              }
            }
            out[((r * c + k) * outH + ph) * outW + pw] = max ? (gridH * gridW > 0 ? best : 0) : sum / samples;
          }
        }
      }
    }
    return [tensorFromNumbers(x.dtype, [count, c, outH, outW], out)];
  },
});
