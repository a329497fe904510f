/**
 * Offline weights of dynamic quantization: int8 symmetric (zero point 0, range ±127) or uint8
 * asymmetric, per tensor or per output channel, with ONNX's rounding (the `@modelpass/ir`
 * toolkit). Codes keep the weight's own layout; `integerOperand` gives MatMulInteger its `[K, N]`.
 */
import { quantizeAsymmetric, quantizeSymmetric, Tensor, type QuantizedTensor } from '@modelpass/ir';
import type { DynamicLayer } from './dynamic-layers.js';

export type DynamicWeightType = 'int8' | 'uint8';

export interface DynamicWeight {
  /** Codes in the weight's own layout (`[N, K]` for an n-major Gemm weight). */
  readonly values: Tensor;
  /** `[]` per tensor, `[N]` (or `[M]` output channels) per channel. */
  readonly scale: Tensor;
  readonly zeroPoint: Tensor;
  readonly perChannel: boolean;
}

/** The output-channel axis of the weight as stored. */
function channelAxis(layer: DynamicLayer): number {
  if (layer.kind === 'conv') return 0;
  return layer.layout === 'k-major' ? 1 : 0;
}

/** The codes of a 2-D weight transposed. */
export function transposeCodes(tensor: Tensor): Tensor {
  const [rows, cols] = tensor.shape as [number, number];
  const source = tensor.data() as Int8Array | Uint8Array;
  const target = new (source.constructor as Int8ArrayConstructor | Uint8ArrayConstructor)(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) target[c * rows + r] = source[r * cols + c]!;
  return Tensor.fromBytes(tensor.dtype, [cols, rows], new Uint8Array(target.buffer));
}

export function quantizeDynamicWeight(layer: DynamicLayer, type: DynamicWeightType, perChannel: boolean): DynamicWeight {
  const axis = perChannel ? channelAxis(layer) : undefined;
  const quantized: QuantizedTensor = type === 'int8' ? quantizeSymmetric(layer.tensor, { bits: 8, axis }) : quantizeAsymmetric(layer.tensor, { bits: 8, axis });
  return { values: quantized.values, scale: quantized.scale, zeroPoint: quantized.zeroPoint, perChannel };
}

/** The codes as MatMulInteger/ConvInteger read them: `[K, N]` for linear layers, the Conv weight as is. */
export function integerOperand(layer: DynamicLayer, weight: DynamicWeight): Tensor {
  return layer.kind === 'linear' && layer.layout === 'n-major' ? transposeCodes(weight.values) : weight.values;
}
