/**
 * Per-channel or per-tensor, per layer: a weight keeps one scale per output channel only when that
 * buys at least `minGainDb` of signal-to-quantization-noise ratio over a single scale. Per tensor
 * drops the weight's and the bias's per-channel scales (4 bytes each per channel) and the weight's
 * per-channel zero points (1 byte each) from the file; ORT fuses the group either way. The SQNR of
 * each choice is measured on the weight itself: 10·log10(Σw² / Σ(w − ŵ)²), ŵ the dequantized
 * symmetric int8 weight.
 */
import { dequantizeLinear, quantizeSymmetric, type Tensor } from '@modelpass/ir';

/** The default `per-channel-min-gain` (dB): per-channel must gain at least this much SQNR over per-tensor. */
export const PER_CHANNEL_MIN_GAIN_DB = 1;

/** SQNR in dB of `weight` quantized to symmetric int8 per tensor (`axis` undefined) or along `axis`. */
export function weightSqnrDb(weight: Tensor, axis: number | undefined): number {
  const q = quantizeSymmetric(weight, { dtype: 'int8', axis });
  const restored = dequantizeLinear(q.values, q.scale, undefined, axis === undefined ? {} : { axis }).toNumbers();
  const values = weight.toNumbers();
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < values.length; i++) {
    signal += values[i]! * values[i]!;
    noise += (values[i]! - restored[i]!) ** 2;
  }
  return noise === 0 ? Infinity : 10 * Math.log10(signal / noise);
}

/** Whether `weight` should keep per-channel scales along `axis`: it gains at least `minGainDb` over per tensor. */
export function perChannelPaysOff(weight: Tensor, axis: number, minGainDb: number): boolean {
  if (minGainDb <= 0) return true;
  const perTensor = weightSqnrDb(weight, undefined);
  if (perTensor === Infinity) return false;
  return weightSqnrDb(weight, axis) - perTensor >= minGainDb;
}
