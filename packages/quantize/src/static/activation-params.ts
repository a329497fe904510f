/**
 * Scale and zero point of an activation from its calibrated range, as ONNX Runtime's quantization
 * tools compute them: the range is widened to include 0 (zero must be exact: padding, Relu), then
 * mapped onto the dtype's range. Symmetric: `[-absmax, absmax]`, zero point at the middle (int8: 0,
 * range ±127; uint8: 128). Asymmetric with a range starting at 0 gets the dtype's minimum as zero
 * point, which is what lets a QuantizeLinear compute a folded Relu exactly.
 */
import { ModelpassError, quantizedRange, roundHalfToEven, type QuantParams } from '@modelpass/ir';

export type ActivationDType = 'uint8' | 'int8' | 'int16';

export interface ActivationScheme {
  readonly dtype: ActivationDType;
  readonly symmetric: boolean;
}

export interface CalibratedRange {
  readonly min: number;
  readonly max: number;
}

export interface QuantizedActivationType {
  readonly dtype: ActivationDType;
  readonly quant: QuantParams;
}

export function activationParams(tensor: string, range: CalibratedRange, scheme: ActivationScheme): QuantizedActivationType {
  if (!Number.isFinite(range.min) || !Number.isFinite(range.max) || range.min > range.max) {
    throw new ModelpassError({
      reason: `tensor '${tensor}' has no usable calibration range`,
      expected: 'finite min ≤ max',
      actual: `[${range.min}, ${range.max}]`,
      source: '@modelpass/quantize',
      code: 'quantize/range',
    });
  }
  const { min: typeMin, max: typeMax, bits } = quantizedRange(scheme.dtype);
  let low = Math.min(0, range.min);
  let high = Math.max(0, range.max);
  let qmin = typeMin;
  let qmax = typeMax;
  if (scheme.symmetric) {
    const absmax = Math.max(-low, high);
    low = -absmax;
    high = absmax;
    if (typeMin < 0) qmin = -typeMax; // int8: [-127, 127], zero point 0
  }
  let scale = Math.fround((high - low) / (qmax - qmin));
  if (!(scale > 0) || !Number.isFinite(scale)) scale = 1;
  const zeroPoint = scheme.symmetric
    ? roundHalfToEven((qmin + qmax) / 2)
    : Math.min(typeMax, Math.max(typeMin, roundHalfToEven(qmin - low / scale)));
  return { dtype: scheme.dtype, quant: { scale: [scale], zeroPoint: [zeroPoint], bits } };
}
