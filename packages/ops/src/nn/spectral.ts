/**
 * DFT (opset 17: `axis` attribute; opset 20: `axis` input, default −2) and STFT (opset 17). Signals
 * are `[batch, …, n, 1]` (real) or `[…, 2]` (complex: real, imaginary); outputs are complex `[…, 2]`.
 * `dft_length` truncates or zero-pads the transformed axis; `onesided` keeps the ⌊L/2⌋+1 first bins;
 * `inverse` uses e^{+2πi kn/L} and divides by L. Reference kernels sum in float64 (O(L²) per signal).
 */
import { tensorType, type Dim, type InferenceContext, type Node, type Type } from '@modelpass/ir';
import { defineCanonicalOp, type KernelContext } from '../op-definition.js';
import { readInts, readNumbers, tensorFromElements } from '../util/elements.js';
import { constantInts, hasInput, inputTensorType } from '../util/inference.js';
import { inputTensor, opError, optionalInputTensor } from '../util/kernel-io.js';

const FLOATS = ['float32', 'float64', 'float16', 'bfloat16'];

/** The transformed axis of a DFT node, normalized into [0, rank − 2], or undefined while unknown (a run-time axis input). */
export function dftAxis(node: Node, rank: number, opset: number, axisInput: number[] | undefined): number | undefined {
  let axis: number;
  if (opset >= 20) {
    if (hasInput(node, 2) && !axisInput) return undefined;
    axis = axisInput?.[0] ?? -2;
  } else axis = node.attr('axis', 'int', 1);
  const normalized = axis < 0 ? axis + rank : axis;
  return normalized >= 0 && normalized <= rank - 2 ? normalized : undefined;
}

/** The coefficient matrix of a DFT of length `length` over `inputs` samples (zero-padded or truncated) into `bins` bins, complex in and out: [bins][2] × [inputs][2]. */
export function dftCoefficients(length: number, inputs: number, bins: number, inverse: boolean): (k: number, n: number) => [number, number] {
  const sign = inverse ? 1 : -1;
  const scale = inverse ? 1 / length : 1;
  return (k, n) => {
    if (n >= Math.min(inputs, length)) return [0, 0];
    const theta = (2 * Math.PI * ((k * n) % length)) / length;
    return [Math.cos(theta) * scale, sign * Math.sin(theta) * scale];
  };
}

function inferDft(context: InferenceContext): (Type | undefined)[] {
  const input = inputTensorType(context, 0);
  if (!input?.shape) return [input ? tensorType(input.dtype, null) : undefined];
  const rank = input.shape.length;
  const axis = dftAxis(context.node, rank, context.opset ?? 20, constantInts(context, 2));
  const shape: Dim[] = [...input.shape.slice(0, -1), 2];
  if (axis === undefined) return [tensorType(input.dtype, shape.map((d, i) => (i === rank - 1 ? d : i === 0 ? d : null)) as Dim[])];
  const given = hasInput(context.node, 1) ? constantInts(context, 1)?.[0] : undefined;
  const length = hasInput(context.node, 1) ? given : input.shape[axis];
  const onesided = context.node.attr('onesided', 'int', 0) === 1;
  shape[axis] = typeof length === 'number' ? (onesided ? Math.floor(length / 2) + 1 : length) : null;
  return [tensorType(input.dtype, shape)];
}

export const dftOp = defineCanonicalOp({
  op: 'onnx.DFT',
  summary: 'Discrete Fourier transform of a real or complex signal along one axis',
  inputs: [{ name: 'input' }, { name: 'dft_length', optional: true }, { name: 'axis', optional: true }],
  outputs: [{ name: 'output' }],
  attributes: {
    axis: { kind: 'int', default: 1, doc: 'opset 17; from opset 20 an input (default −2)' },
    inverse: { kind: 'int', default: 0, oneOf: [0, 1] },
    onesided: { kind: 'int', default: 0, oneOf: [0, 1] },
  },
  inferTypes: inferDft,
  kernel(inputs, context: KernelContext) {
    const x = inputTensor(inputs, 0, context);
    const node = context.node;
    if (!FLOATS.includes(x.dtype)) throw opError(node, 'input must be a float tensor', { actual: x.dtype });
    const shape = x.shape;
    const rank = shape.length;
    const channels = shape[rank - 1]!;
    if (rank < 3 || (channels !== 1 && channels !== 2)) throw opError(node, 'input must be [batch, …, n, 1 or 2]', { actual: `[${shape.join(', ')}]` });
    const axisTensor = optionalInputTensor(inputs, 2, context);
    const axis = dftAxis(node, rank, context.opset, axisTensor ? readInts(axisTensor) : undefined);
    if (axis === undefined) throw opError(node, 'axis is out of range', { expected: `[-${rank}, -2] or [0, ${rank - 2}]` });
    const lengthTensor = optionalInputTensor(inputs, 1, context);
    const length = lengthTensor ? readInts(lengthTensor)[0]! : shape[axis]!;
    if (length < 1) throw opError(node, `dft_length ${length} must be positive`);
    const inverse = node.attr('inverse', 'int', 0) === 1;
    const bins = node.attr('onesided', 'int', 0) === 1 ? Math.floor(length / 2) + 1 : length;
    const coefficient = dftCoefficients(length, shape[axis]!, bins, inverse);
    const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
    const inner = shape.slice(axis + 1, rank - 1).reduce((p, d) => p * d, 1);
    const n = shape[axis]!;
    const values = readNumbers(x);
    const out = new Float64Array(outer * bins * inner * 2);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        for (let k = 0; k < bins; k++) {
          let re = 0;
          let im = 0;
          for (let t = 0; t < Math.min(n, length); t++) {
            const at = ((o * n + t) * inner + i) * channels;
            const xr = values[at]!;
            const xi = channels === 2 ? values[at + 1]! : 0;
            const [c, s] = coefficient(k, t);
            re += xr * c - xi * s;
            im += xr * s + xi * c;
          }
          const to = ((o * bins + k) * inner + i) * 2;
          out[to] = re;
          out[to + 1] = im;
        }
      }
    }
    const outShape = [...shape.slice(0, -1), 2];
    outShape[axis] = bins;
    return [tensorFromElements(x.dtype, outShape, out)];
  },
});

/** STFT's frame length: the window's length, else the frame_length input. */
function frameLengthOf(windowLength: number | undefined, frameLength: number | undefined): number | undefined {
  return frameLength ?? windowLength;
}

function inferStft(context: InferenceContext): (Type | undefined)[] {
  const signal = inputTensorType(context, 0);
  if (!signal) return [undefined];
  const step = constantInts(context, 1)?.[0];
  const windowLength = inputTensorType(context, 2)?.shape?.[0];
  const frameLength = frameLengthOf(typeof windowLength === 'number' ? windowLength : undefined, constantInts(context, 3)?.[0]);
  const length = signal.shape?.[1];
  const frames = typeof length === 'number' && step && frameLength ? Math.floor((length - frameLength) / step) + 1 : null;
  const onesided = context.node.attr('onesided', 'int', 1) === 1;
  const bins = frameLength ? (onesided ? Math.floor(frameLength / 2) + 1 : frameLength) : null;
  return [tensorType(signal.dtype, [signal.shape?.[0] ?? null, frames, bins, 2])];
}

export const stftOp = defineCanonicalOp({
  op: 'onnx.STFT',
  summary: 'Short-time Fourier transform: DFTs of windowed frames taken every frame_step samples',
  inputs: [{ name: 'signal' }, { name: 'frame_step' }, { name: 'window', optional: true }, { name: 'frame_length', optional: true }],
  outputs: [{ name: 'output' }],
  attributes: { onesided: { kind: 'int', default: 1, oneOf: [0, 1] } },
  inferTypes: inferStft,
  kernel(inputs, context: KernelContext) {
    const node = context.node;
    const signal = inputTensor(inputs, 0, context);
    const [batch, length, channels] = signal.shape as number[];
    if (signal.rank !== 3 || (channels !== 1 && channels !== 2)) throw opError(node, 'signal must be [batch, length, 1 or 2]', { actual: `[${signal.shape.join(', ')}]` });
    const step = readInts(inputTensor(inputs, 1, context))[0]!;
    const window = optionalInputTensor(inputs, 2, context);
    const frameTensor = optionalInputTensor(inputs, 3, context);
    const frameLength = frameLengthOf(window?.shape[0], frameTensor ? readInts(frameTensor)[0] : undefined);
    if (!frameLength || frameLength > length! || step < 1) throw opError(node, 'needs a window or frame_length no longer than the signal and a positive frame_step');
    if (window && window.shape[0] !== frameLength) throw opError(node, 'the window length differs from frame_length');
    const weights = window ? readNumbers(window) : undefined;
    const frames = Math.floor((length! - frameLength) / step) + 1;
    const bins = node.attr('onesided', 'int', 1) === 1 ? Math.floor(frameLength / 2) + 1 : frameLength;
    const coefficient = dftCoefficients(frameLength, frameLength, bins, false);
    const values = readNumbers(signal);
    const out = new Float64Array(batch! * frames * bins * 2);
    for (let b = 0; b < batch!; b++) {
      for (let f = 0; f < frames; f++) {
        for (let k = 0; k < bins; k++) {
          let re = 0;
          let im = 0;
          for (let t = 0; t < frameLength; t++) {
            const at = (b * length! + f * step + t) * channels!;
            const w = weights ? weights[t]! : 1;
            const xr = values[at]! * w;
            const xi = channels === 2 ? values[at + 1]! * w : 0;
            const [c, s] = coefficient(k, t);
            re += xr * c - xi * s;
            im += xr * s + xi * c;
          }
          const to = ((b * frames + f) * bins + k) * 2;
          out[to] = re;
          out[to + 1] = im;
        }
      }
    }
    return [tensorFromElements(signal.dtype, [batch!, frames, bins, 2], out)];
  },
});

export const spectralOps = [dftOp, stftOp];
