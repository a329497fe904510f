/**
 * DeformConv (opset 19), 2-D: a convolution whose every kernel tap reads the input at its regular
 * place plus a learned (Δy, Δx) offset, by bilinear interpolation (zero outside the image, each
 * corner checked), optionally scaled by a mask. Offsets are laid out per offset group as
 * (Δy, Δx) pairs in kernel order. Float64 inside, one rounding out.
 */
import { tensorType, type Dim } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { readNumbers } from '../util/elements.js';
import { hasInput, inputShape, inputTensorType } from '../util/inference.js';
import { inputTensor, opError, optionalInputTensor } from '../util/kernel-io.js';
import { tensorFromNumbers } from './kernel-helpers.js';

/** Bilinear sample of one H × W plane at (y, x): zero beyond one pixel outside, corners outside count 0. */
export function deformSample(plane: ArrayLike<number>, offset: number, height: number, width: number, y: number, x: number): number {
  if (y <= -1 || y >= height || x <= -1 || x >= width) return 0;
  const [y0, x0] = [Math.floor(y), Math.floor(x)];
  const [ly, lx] = [y - y0, x - x0];
  const at = (r: number, c: number) => (r < 0 || r >= height || c < 0 || c >= width ? 0 : plane[offset + r * width + c]!);
  return (1 - ly) * (1 - lx) * at(y0, x0) + (1 - ly) * lx * at(y0, x0 + 1) + ly * (1 - lx) * at(y0 + 1, x0) + ly * lx * at(y0 + 1, x0 + 1);
}

export const deformConvOp = defineCanonicalOp({
  op: 'onnx.DeformConv',
  summary: 'Deformable 2-D convolution: kernel taps read the input at learned offsets (bilinear), optionally masked',
  inputs: [{ name: 'X' }, { name: 'W' }, { name: 'offset' }, { name: 'B', optional: true }, { name: 'mask', optional: true }],
  outputs: [{ name: 'Y' }],
  attributes: {
    dilations: { kind: 'ints' },
    group: { kind: 'int', default: 1 },
    kernel_shape: { kind: 'ints' },
    offset_group: { kind: 'int', default: 1 },
    pads: { kind: 'ints' },
    strides: { kind: 'ints' },
  },
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined];
    const x = inputShape(context, 0);
    const w = inputShape(context, 1);
    const offset = inputShape(context, 2);
    const dims: Dim[] = [x?.[0] ?? null, w?.[0] ?? null, offset?.[2] ?? null, offset?.[3] ?? null];
    return [tensorType(type.dtype, dims)];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const w = inputTensor(inputs, 1, node);
    const offsets = inputTensor(inputs, 2, node);
    const bias = optionalInputTensor(inputs, 3, node);
    const mask = hasInput(node, 4) ? optionalInputTensor(inputs, 4, node) : undefined;
    if (x.rank !== 4 || w.rank !== 4 || offsets.rank !== 4) throw opError(node, 'only 2-D DeformConv (4-D X, W and offset) is implemented');
    const [n, channels, height, width] = x.shape as [number, number, number, number];
    const [outChannels, perGroup, kh, kw] = w.shape as [number, number, number, number];
    const group = node.attr('group', 'int', 1);
    const offsetGroup = node.attr('offset_group', 'int', 1);
    const [sh, sw] = node.optionalAttr('strides', 'ints') ?? [1, 1];
    const [dh, dw] = node.optionalAttr('dilations', 'ints') ?? [1, 1];
    const [ph, pw] = node.optionalAttr('pads', 'ints') ?? [0, 0, 0, 0];
    const [pe, qe] = (node.optionalAttr('pads', 'ints') ?? [0, 0, 0, 0]).slice(2);
    const outH = Math.floor((height + ph! + pe! - (dh! * (kh - 1) + 1)) / sh!) + 1;
    const outW = Math.floor((width + pw! + qe! - (dw! * (kw - 1) + 1)) / sw!) + 1;
    if (offsets.shape[2] !== outH || offsets.shape[3] !== outW) throw opError(node, `offset [${offsets.shape.join(',')}] does not match the output's ${outH} × ${outW} positions`);
    const taps = kh * kw;
    if (perGroup * group !== channels || outChannels % group !== 0 || channels % offsetGroup !== 0 || offsets.shape[1] !== offsetGroup * 2 * taps) {
      throw opError(node, `X [${x.shape.join(',')}], W [${w.shape.join(',')}] and offset [${offsets.shape.join(',')}] do not fit group ${group} and offset_group ${offsetGroup}`);
    }
    const data = readNumbers(x);
    const weights = readNumbers(w);
    const shifts = readNumbers(offsets);
    const scales = mask ? readNumbers(mask) : undefined;
    const biases = bias ? readNumbers(bias) : undefined;
    const plane = outH * outW;
    // Sampled columns [C, taps, outH·outW] per batch element, then a grouped matrix product.
    const columns = new Float64Array(channels * taps * plane);
    const out = new Float64Array(n * outChannels * plane);
    const outPerGroup = outChannels / group;
    for (let b = 0; b < n; b++) {
      for (let c = 0; c < channels; c++) {
        const g = Math.floor(c / (channels / offsetGroup));
        for (let t = 0; t < taps; t++) {
          const [i, j] = [Math.floor(t / kw), t % kw];
          for (let p = 0; p < plane; p++) {
            const [oy, ox] = [Math.floor(p / outW), p % outW];
            const base = ((b * offsetGroup + g) * 2 * taps + 2 * t) * plane + p;
            const y = oy * sh! - ph! + i * dh! + shifts[base]!;
            const xx = ox * sw! - pw! + j * dw! + shifts[base + plane]!;
            let value = deformSample(data, (b * channels + c) * height * width, height, width, y, xx);
            if (scales) value *= scales[((b * offsetGroup + g) * taps + t) * plane + p]!;
            columns[(c * taps + t) * plane + p] = value;
          }
        }
      }
      for (let o = 0; o < outChannels; o++) {
        const g = Math.floor(o / outPerGroup);
        for (let p = 0; p < plane; p++) {
          let sum = biases ? biases[o]! : 0;
          for (let k = 0; k < perGroup; k++) for (let t = 0; t < taps; t++) sum += weights[(o * perGroup + k) * taps + t]! * columns[((g * perGroup + k) * taps + t) * plane + p]!;
          out[(b * outChannels + o) * plane + p] = sum;
        }
      }
    }
    return [tensorFromNumbers(x.dtype, [n, outChannels, outH, outW], out)];
  },
});
