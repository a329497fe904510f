/**
 * `com.microsoft.MatMulNBits` (ONNX Runtime contrib op, domain `com.microsoft`, version 1):
 * `Y = A · dequantize(B)ᵀ` with B block-quantized along K.
 *
 * Layout (ORT's docs/ContribOperators.md): attributes K, N, bits, block_size (a power of two ≥ 16),
 * accuracy_level; inputs
 *   A [.., K] float;
 *   B uint8 [N, ceil(K / block_size), block_size · bits / 8], codes packed low bits first;
 *   scales float [N · blocks];
 *   zero_points (optional) uint8 [N · ceil(blocks · bits / 8)] packed like B, or float [N · blocks];
 *   absent, the zero point is 2^(bits-1).
 */
import { Builder, Tensor, type Model, type Node, type Value } from '@modelpass/ir';
import type { LinearLayer } from './linear-layers.js';
import type { QuantizedWeight } from './quantized-weight.js';
import type { TensorMaker } from './spill-file.js';
import type { SharedWeightConstants } from '../shared-weights.js';

export const MICROSOFT_DOMAIN = 'com.microsoft';
export const MATMUL_NBITS = `${MICROSOFT_DOMAIN}.MatMulNBits`;

/** Packs unsigned codes of `bits` bits, low bits first (4 bits: two per byte). */
export function packCodes(codes: Uint8Array, bits: 4 | 8, start = 0, count = codes.length - start, target = new Uint8Array(Math.ceil((count * bits) / 8)), targetStart = 0): Uint8Array {
  if (bits === 8) {
    target.set(codes.subarray(start, start + count), targetStart);
    return target;
  }
  for (let i = 0; i < count; i += 2) {
    const low = codes[start + i]!;
    const high = i + 1 < count ? codes[start + i + 1]! : 0;
    target[targetStart + (i >> 1)] = (low & 0x0f) | ((high & 0x0f) << 4);
  }
  return target;
}

export interface MatMulNBitsTensors {
  readonly b: Tensor;
  readonly scales: Tensor;
  readonly zeroPoints: Tensor | undefined;
}

/** ORT's tensors for `weight` (grouped along K with group size = block size). */
export function matMulNBitsTensors(weight: QuantizedWeight, make: TensorMaker, scaleBy = 1): MatMulNBitsTensors {
  const { n, groups, scheme } = weight;
  const { bits, groupSize } = scheme;
  const blob = (groupSize * bits) / 8;
  // Codes are stored [n][groups·groupSize], exactly B's element order.
  const b = make('uint8', [n, groups, blob], packCodes(weight.codes, bits));
  const scaleValues = scaleBy === 1 ? weight.scales : weight.scales.map((s) => Math.fround(s * scaleBy));
  const scales = make('float32', [n * groups], new Uint8Array(scaleValues.buffer, scaleValues.byteOffset, scaleValues.byteLength));
  const middle = 1 << (bits - 1);
  if (!weight.fractionalZeroPoints && weight.zeroPoints.every((z) => z === middle)) return { b, scales, zeroPoints: undefined };
  if (weight.fractionalZeroPoints) {
    const zeros = weight.zeroPoints;
    return { b, scales, zeroPoints: make('float32', [n * groups], new Uint8Array(zeros.buffer, zeros.byteOffset, zeros.byteLength)) };
  }
  const perRow = Math.ceil((groups * bits) / 8);
  const packed = new Uint8Array(n * perRow);
  const codes = Uint8Array.from(weight.zeroPoints);
  for (let row = 0; row < n; row++) packCodes(codes, bits, row * groups, groups, packed, row * perRow);
  return { b, scales, zeroPoints: make('uint8', [n * perRow], packed) };
}

export interface MatMulNBitsOptions {
  readonly accuracyLevel: number;
  readonly make: TensorMaker;
  /** A weight several layers read is stored once: their MatMulNBits nodes read the same B, scales and zero points. */
  readonly shared?: SharedWeightConstants;
}

/**
 * Replaces `layer` (MatMul, or Gemm with its alpha folded into the scales and beta·C added after)
 * by MatMulNBits. Returns the new node.
 */
export function replaceWithMatMulNBits(model: Model, layer: LinearLayer, weight: QuantizedWeight, options: MatMulNBitsOptions): Node {
  const { node } = layer;
  const b = Builder.before(node);
  const name = layer.weight.name;
  const makeConstants = (): Value[] => {
    const tensors = matMulNBitsTensors(weight, options.make, layer.alpha);
    const made = [b.constant(tensors.b, `${name}_Q${weight.scheme.bits}`), b.constant(tensors.scales, `${name}_scales`)];
    if (tensors.zeroPoints) made.push(b.constant(tensors.zeroPoints, `${name}_zero_points`));
    return made;
  };
  const constants = options.shared ? options.shared.get(layer.weight, `nbits:${layer.layout}:${layer.alpha}`, makeConstants).value : makeConstants();
  const inputs: (Value | null)[] = [node.input(0), ...constants];
  const output = node.output(0);
  const matmul = b.create(
    MATMUL_NBITS,
    inputs,
    { K: layer.k, N: layer.n, bits: weight.scheme.bits, block_size: weight.scheme.groupSize, accuracy_level: options.accuracyLevel || undefined },
    { name: `${node.name}_Q${weight.scheme.bits}`, types: [output.type] },
  );
  let result = matmul.output(0);
  if (layer.bias && layer.beta !== 0) {
    let bias = layer.bias;
    if (layer.beta !== 1) bias = b.op1('onnx.Mul', [bias, b.constant(Tensor.scalar('float32', layer.beta), `${node.name}_beta`)], {}, { name: `${node.name}_beta_Mul` });
    result = b.op1('onnx.Add', [result, bias], {}, { name: `${node.name}_bias_Add`, types: [output.type] });
  }
  model.opsetImports.set(MICROSOFT_DOMAIN, Math.max(1, model.opsetImports.get(MICROSOFT_DOMAIN) ?? 1));
  output.replaceAllUsesWith(result);
  node.erase();
  return matmul;
}
