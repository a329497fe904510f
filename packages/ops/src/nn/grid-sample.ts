/**
 * GridSample (opset 16: bilinear/nearest/bicubic; opset 20: linear/nearest/cubic) of a 4-D input
 * `[N, C, H, W]` at a grid `[N, Ho, Wo, 2]` of normalized (x, y) in [-1, 1]. Follows ONNX Runtime:
 * the coordinate is denormalized (align_corners), moved inside by the padding mode when it falls
 * outside (not for cubic, which pads each tap only), then each tap reads zeros / the clamped / the
 * reflected pixel. Nearest rounds half to even.
 * Volumetric (5-D) inputs: `grid-sample-volume.ts` (linear, nearest).
 */
import { tensorType, type Node, type Tensor } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { readNumbers, roundHalfToEven } from '../util/elements.js';
import { inputShape, inputTensorType } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { tensorFromNumbers } from './kernel-helpers.js';
import { sampleVolume } from './grid-sample-volume.js';

export type GridSampleMode = 'linear' | 'nearest' | 'cubic';

/** The mode under its opset 20 name (bilinear → linear, bicubic → cubic). */
export function gridSampleMode(mode: string): GridSampleMode | undefined {
  if (mode === 'bilinear' || mode === 'linear') return 'linear';
  if (mode === 'bicubic' || mode === 'cubic') return 'cubic';
  return mode === 'nearest' ? 'nearest' : undefined;
}

/** Pixel coordinate of a normalized one along an axis of `length`. */
export function denormalize(n: number, length: number, alignCorners: boolean): number {
  return alignCorners ? ((n + 1) / 2) * (length - 1) : ((n + 1) * length - 1) / 2;
}

/** `x` folded back into [low, high] by reflecting at the borders (any number of times). */
export function reflect(x: number, low: number, high: number): number {
  const range = high - low;
  if (range <= 0) return low;
  if (x < low) {
    const distance = low - x;
    const turns = Math.floor(distance / range);
    const rest = distance - turns * range;
    return turns % 2 === 0 ? low + rest : high - rest;
  }
  if (x > high) {
    const distance = x - high;
    const turns = Math.floor(distance / range);
    const rest = distance - turns * range;
    return turns % 2 === 0 ? high - rest : low + rest;
  }
  return x;
}

function cubicWeights(t: number): number[] {
  const a = -0.75;
  const near = (d: number) => ((a + 2) * d - (a + 3)) * d * d + 1;
  const far = (d: number) => ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

export const gridSampleOp = defineCanonicalOp({
  op: 'onnx.GridSample',
  summary: 'Samples the input at normalized grid locations (bilinear/nearest/bicubic; zeros, border or reflection padding)',
  inputs: [{ name: 'X' }, { name: 'grid' }],
  outputs: [{ name: 'Y' }],
  attributes: {
    align_corners: { kind: 'int', default: 0 },
    mode: { kind: 'string', default: 'bilinear', oneOf: ['bilinear', 'nearest', 'bicubic', 'linear', 'cubic'] },
    padding_mode: { kind: 'string', default: 'zeros', oneOf: ['zeros', 'border', 'reflection'] },
  },
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined];
    const x = inputShape(context, 0);
    const grid = inputShape(context, 1);
    if (!x || !grid) return [tensorType(type.dtype, null)];
    return [tensorType(type.dtype, [x[0]!, x[1]!, ...grid.slice(1, -1)])];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const grid = inputTensor(inputs, 1, node);
    if (x.rank === 5) return [gridSampleVolume(x, grid, node)];
    if (x.rank !== 4) throw opError(node, `GridSample of a rank-${x.rank} input is not supported (4-D [N, C, H, W] or 5-D [N, C, D, H, W])`);
    const [n, c, h, w] = x.shape as [number, number, number, number];
    if (grid.rank !== 4 || grid.shape[0] !== n || grid.shape[3] !== 2) throw opError(node, `grid [${grid.shape.join(',')}] does not fit an input [${x.shape.join(',')}]`, { expected: `[${n}, Ho, Wo, 2]` });
    const mode = gridSampleMode(node.attr('mode', 'string', 'bilinear'));
    if (!mode) throw opError(node, `unknown mode '${node.attr('mode', 'string', 'bilinear')}'`);
    const padding = node.attr('padding_mode', 'string', 'zeros');
    const align = node.attr('align_corners', 'int', 0) === 1;
    const [outH, outW] = [grid.shape[1]!, grid.shape[2]!];
    const data = readNumbers(x);
    const points = readNumbers(grid);
    const out = new Float64Array(n * c * outH * outW);
    const [xLow, xHigh] = align ? [0, w - 1] : [-0.5, w - 0.5];
    const [yLow, yHigh] = align ? [0, h - 1] : [-0.5, h - 0.5];
    const pixel = (plane: number, row: number, column: number): number => {
      if (padding === 'zeros') return row < 0 || row >= h || column < 0 || column >= w ? 0 : data[plane + row * w + column]!;
      if (padding === 'border') return data[plane + Math.min(Math.max(row, 0), h - 1) * w + Math.min(Math.max(column, 0), w - 1)]!;
      const r = Math.trunc(reflect(row, yLow, yHigh));
      const k = Math.trunc(reflect(column, xLow, xHigh));
      return data[plane + Math.min(Math.max(r, 0), h - 1) * w + Math.min(Math.max(k, 0), w - 1)]!;
    };
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < outH * outW; i++) {
        let px = denormalize(points[(b * outH * outW + i) * 2]!, w, align);
        let py = denormalize(points[(b * outH * outW + i) * 2 + 1]!, h, align);
        if (mode === 'nearest') {
          px = roundHalfToEven(px);
          py = roundHalfToEven(py);
        }
        // Cubic pads each tap only (as ONNX Runtime and PyTorch do), the others move the coordinate inside first.
        if (mode !== 'cubic' && (px < xLow || px > xHigh || py < yLow || py > yHigh)) {
          if (padding === 'border') {
            px = Math.min(Math.max(px, 0), w - 1);
            py = Math.min(Math.max(py, 0), h - 1);
          } else if (padding === 'reflection') {
            px = reflect(px, xLow, xHigh);
            py = reflect(py, yLow, yHigh);
          }
        }
        for (let k = 0; k < c; k++) {
          const plane = (b * c + k) * h * w;
          let value: number;
          if (mode === 'nearest') value = pixel(plane, py, px);
          else {
            const x0 = Math.floor(px);
            const y0 = Math.floor(py);
            if (mode === 'linear') {
              const [dx, dy] = [px - x0, py - y0];
              value = (1 - dy) * ((1 - dx) * pixel(plane, y0, x0) + dx * pixel(plane, y0, x0 + 1)) + dy * ((1 - dx) * pixel(plane, y0 + 1, x0) + dx * pixel(plane, y0 + 1, x0 + 1));
            } else {
              const wx = cubicWeights(px - x0);
              const wy = cubicWeights(py - y0);
              value = 0;
              for (let r = 0; r < 4; r++) for (let q = 0; q < 4; q++) value += wy[r]! * wx[q]! * pixel(plane, y0 - 1 + r, x0 - 1 + q);
            }
          }
          out[((b * c + k) * outH * outW) + i] = value;
        }
      }
    }
    return [tensorFromNumbers(x.dtype, [n, c, outH, outW], out)];
  },
});

/** The 5-D kernel: checks the grid and mode, then `sampleVolume`. */
function gridSampleVolume(x: Tensor, grid: Tensor, node: Node): Tensor {
  const [n, c] = x.shape as [number, number];
  if (grid.rank !== 5 || grid.shape[0] !== n || grid.shape[4] !== 3) throw opError(node, `grid [${grid.shape.join(',')}] does not fit an input [${x.shape.join(',')}]`, { expected: `[${n}, Do, Ho, Wo, 3]` });
  const mode = gridSampleMode(node.attr('mode', 'string', 'bilinear'));
  if (mode !== 'linear' && mode !== 'nearest') throw opError(node, `GridSample of a 5-D input takes mode linear or nearest (ONNX defines cubic for 4-D only), not '${node.attr('mode', 'string', 'bilinear')}'`);
  const outShape = grid.shape.slice(1, 4);
  const values = sampleVolume(readNumbers(x), x.shape, readNumbers(grid), outShape, { mode, padding: node.attr('padding_mode', 'string', 'zeros'), alignCorners: node.attr('align_corners', 'int', 0) === 1 });
  return tensorFromNumbers(x.dtype, [n, c, ...outShape], values);
}
