/**
 * Signal generators of opset 17: HannWindow, HammingWindow, BlackmanWindow (a window of `size`
 * samples, symmetric or periodic) and MelWeightMatrix (triangular mel filters over the bins of a
 * one-sided DFT). Computed in float64, rounded once to `output_datatype` (default float32).
 */
import { dtypeFromOnnxCode, tensorType, type DType, type InferenceContext, type Node } from '@modelpass/ir';
import { defineCanonicalOp, type CanonicalOp } from '../op-definition.js';
import { readNumbers, readInts } from '../util/elements.js';
import { constantInts } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { tensorFromNumbers } from '../nn/kernel-helpers.js';

const outputDatatype = { output_datatype: { kind: 'int', default: 1 } } as const;

function outputDType(node: Node): DType {
  const code = node.attr('output_datatype', 'int', 1);
  const dtype = dtypeFromOnnxCode(code);
  if (!dtype) throw opError(node, `output_datatype ${code} is not an ONNX data type`, { expected: 'a TensorProto.DataType code (1 = float)' });
  return dtype;
}

function scalarInt(inputs: Parameters<NonNullable<CanonicalOp['kernel']>>[0], index: number, node: Node, name: string): number {
  const tensor = inputTensor(inputs, index, node);
  if (tensor.size !== 1) throw opError(node, `${name} must be a scalar`, { actual: `shape [${tensor.shape.join(',')}]` });
  return readInts(tensor)[0]!;
}

/** `a0 − a1·cos(2πn/N) + a2·cos(4πn/N)` for n < size, N = size (periodic) or size − 1 (symmetric). */
export function cosineWindow(size: number, periodic: boolean, [a0, a1, a2]: readonly [number, number, number]): Float64Array {
  const values = new Float64Array(Math.max(size, 0));
  const period = periodic ? size : size - 1;
  for (let n = 0; n < size; n++) {
    const phase = period === 0 ? 0 : (2 * Math.PI * n) / period;
    values[n] = a0 - a1 * Math.cos(phase) + a2 * Math.cos(2 * phase);
  }
  return values;
}

/** The cosine coefficients of each window op. */
export const WINDOW_COEFFICIENTS: Readonly<Record<string, readonly [number, number, number]>> = {
  'onnx.HannWindow': [0.5, 0.5, 0],
  'onnx.HammingWindow': [25 / 46, 21 / 46, 0],
  'onnx.BlackmanWindow': [0.42, 0.5, 0.08],
};

function defineWindow(op: string, summary: string): CanonicalOp {
  const coefficients = WINDOW_COEFFICIENTS[op]!;
  return defineCanonicalOp({
    op,
    summary,
    inputs: [{ name: 'size' }],
    outputs: [{ name: 'output' }],
    attributes: { ...outputDatatype, periodic: { kind: 'int', default: 1, oneOf: [0, 1] } },
    inferTypes(context: InferenceContext) {
      const size = constantInts(context, 0)?.[0];
      return [tensorType(outputDType(context.node), [size ?? `${context.node.name}_size`])];
    },
    kernel(inputs, { node }) {
      const size = scalarInt(inputs, 0, node, 'size');
      if (size < 0) throw opError(node, 'size must not be negative', { actual: String(size) });
      const values = cosineWindow(size, node.attr('periodic', 'int', 1) === 1, coefficients);
      return [tensorFromNumbers(outputDType(node), [size], values)];
    },
  });
}

export const hannWindow = defineWindow('onnx.HannWindow', 'Hann window 0.5 − 0.5·cos(2πn/N)');
export const hammingWindow = defineWindow('onnx.HammingWindow', 'Hamming window 25/46 − 21/46·cos(2πn/N)');
export const blackmanWindow = defineWindow('onnx.BlackmanWindow', 'Blackman window 0.42 − 0.5·cos(2πn/N) + 0.08·cos(4πn/N)');

const hertzToMel = (hertz: number): number => 2595 * Math.log10(1 + hertz / 700);
const melToHertz = (mel: number): number => 700 * (10 ** (mel / 2595) - 1);

/** The [⌊dft_length/2⌋ + 1, num_mel_bins] matrix ONNX specifies (filter edges at integer DFT bins). */
export function melWeightMatrix(melBins: number, dftLength: number, sampleRate: number, lowerHertz: number, upperHertz: number): { shape: [number, number]; values: Float64Array } {
  const spectrogramBins = Math.floor(dftLength / 2) + 1;
  const lowMel = hertzToMel(lowerHertz);
  // ONNX divides the mel range by num_mel_bins + 2 (the count of edges), as its reference and ONNX Runtime do.
  const step = (hertzToMel(upperHertz) - lowMel) / (melBins + 2);
  const edges = Array.from({ length: melBins + 2 }, (_, i) => Math.floor(((dftLength + 1) * melToHertz(i * step + lowMel)) / sampleRate));
  const values = new Float64Array(spectrogramBins * melBins);
  const set = (bin: number, mel: number, value: number): void => {
    if (bin >= 0 && bin < spectrogramBins) values[bin * melBins + mel] = value;
  };
  for (let i = 0; i < melBins; i++) {
    const [low, center, high] = [edges[i]!, edges[i + 1]!, edges[i + 2]!];
    if (center === low) set(center, i, 1);
    else for (let j = low; j <= center; j++) set(j, i, (j - low) / (center - low));
    if (high > center) for (let j = center; j < high; j++) set(j, i, (high - j) / (high - center));
  }
  return { shape: [spectrogramBins, melBins], values };
}

export const melWeightMatrixOp = defineCanonicalOp({
  op: 'onnx.MelWeightMatrix',
  summary: 'Triangular mel-scale filters over the bins of a one-sided DFT',
  inputs: [{ name: 'num_mel_bins' }, { name: 'dft_length' }, { name: 'sample_rate' }, { name: 'lower_edge_hertz' }, { name: 'upper_edge_hertz' }],
  outputs: [{ name: 'output' }],
  attributes: outputDatatype,
  inferTypes(context) {
    const melBins = constantInts(context, 0)?.[0];
    const dftLength = constantInts(context, 1)?.[0];
    const name = context.node.name;
    return [tensorType(outputDType(context.node), [dftLength === undefined ? `${name}_bins` : Math.floor(dftLength / 2) + 1, melBins ?? `${name}_mel_bins`])];
  },
  kernel(inputs, { node }) {
    const [melBins, dftLength, sampleRate] = [0, 1, 2].map((i) => scalarInt(inputs, i, node, ['num_mel_bins', 'dft_length', 'sample_rate'][i]!));
    const [lower, upper] = [3, 4].map((i) => readNumbers(inputTensor(inputs, i, node))[0]!);
    if (melBins! <= 0 || dftLength! <= 0 || sampleRate! <= 0) throw opError(node, 'num_mel_bins, dft_length and sample_rate must be positive', { actual: `${melBins}, ${dftLength}, ${sampleRate}` });
    const { shape, values } = melWeightMatrix(melBins!, dftLength!, sampleRate!, lower!, upper!);
    return [tensorFromNumbers(outputDType(node), shape, values)];
  },
});

export const windowOps: readonly CanonicalOp[] = [hannWindow, hammingWindow, blackmanWindow, melWeightMatrixOp];
