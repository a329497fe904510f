import type { ElementValues } from '../element-codec.js';
import { Tensor } from '../tensor.js';
import { quantizeLinear, quantizedRange, roundHalfToEven, type QuantizedDType } from './quantize.js';
import { reduceAlongAxis } from './reductions.js';
import { toolkitError } from './layout.js';

/** A tensor quantized with ONNX QuantizeLinear, and the parameters that dequantize it. */
export interface QuantizedTensor {
  /** The integers (`dtype`), same shape as the input. */
  readonly values: Tensor;
  /** float32: a scalar (per-tensor) or `[dim]` (per-axis). */
  readonly scale: Tensor;
  /** Same shape as `scale`, same dtype as `values`. */
  readonly zeroPoint: Tensor;
  /** The axis of per-axis parameters; undefined for per-tensor. */
  readonly axis: number | undefined;
  readonly dtype: QuantizedDType;
}

export interface QuantizeParamsOptions {
  /** Bit width: 8 (default), 4 or 16; chooses int8/int4/int16 (symmetric) or uint8/uint4/uint16 (asymmetric). */
  bits?: 4 | 8 | 16;
  /** Overrides the dtype chosen from `bits`. */
  dtype?: QuantizedDType;
  /** Per-axis along this axis (e.g. `weightOutputAxis(node)`); per-tensor when undefined. */
  axis?: number | undefined;
}

const SIGNED: Readonly<Record<number, QuantizedDType>> = { 4: 'int4', 8: 'int8', 16: 'int16' };
const UNSIGNED: Readonly<Record<number, QuantizedDType>> = { 4: 'uint4', 8: 'uint8', 16: 'uint16' };

function chosenDType(options: QuantizeParamsOptions, table: Readonly<Record<number, QuantizedDType>>): QuantizedDType {
  if (options.dtype) return options.dtype;
  const bits = options.bits ?? 8;
  const dtype = table[bits];
  if (!dtype) throw toolkitError(`no quantized dtype of ${bits} bits`, { expected: '4, 8 or 16' });
  return dtype;
}

function requireFinite(stats: Float64Array, what: string): void {
  for (const value of stats) {
    if (!Number.isFinite(value)) throw toolkitError(`${what}: the tensor holds NaN or infinite values, which have no quantization range`);
  }
}

function paramShape(stats: Float64Array, axis: number | undefined): number[] {
  return axis === undefined ? [] : [stats.length];
}

/**
 * Symmetric quantization (zero point 0): `scale = absmax / qmax` per tensor or per index along
 * `axis`, so `[-absmax, absmax]` maps onto `[-qmax, qmax]` (int8: ±127). An all-zero slice gets
 * scale 1. Values are quantized by `quantizeLinear` (ONNX rounding and saturation).
 */
export function quantizeSymmetric(tensor: Tensor, options: QuantizeParamsOptions = {}): QuantizedTensor {
  const dtype = chosenDType(options, SIGNED);
  const { max } = quantizedRange(dtype);
  if (quantizedRange(dtype).min >= 0) throw toolkitError(`symmetric quantization needs a signed dtype`, { actual: dtype });
  const absmax = reduceAlongAxis(tensor, 'absmax', options.axis);
  requireFinite(absmax, 'quantizeSymmetric');
  const scales = Array.from(absmax, (a) => (a > 0 ? Math.fround(a / max) || 1 : 1));
  const shape = paramShape(absmax, options.axis);
  const scale = Tensor.fromValues('float32', shape, scales);
  const zeroPoint = Tensor.fromValues(dtype, shape, new Array<number>(scales.length).fill(0) as ElementValues);
  return finish(tensor, scale, zeroPoint, options.axis, dtype);
}

/**
 * Asymmetric (affine) quantization: the range `[min(0, lo), max(0, hi)]` per tensor or per index
 * along `axis` maps onto the dtype's whole range, zero exactly representable (uint8 by default).
 */
export function quantizeAsymmetric(tensor: Tensor, options: QuantizeParamsOptions = {}): QuantizedTensor {
  const dtype = chosenDType(options, UNSIGNED);
  const range = quantizedRange(dtype);
  const lows = reduceAlongAxis(tensor, 'min', options.axis);
  const highs = reduceAlongAxis(tensor, 'max', options.axis);
  requireFinite(lows, 'quantizeAsymmetric');
  requireFinite(highs, 'quantizeAsymmetric');
  const scales: number[] = [];
  const zeros: number[] = [];
  lows.forEach((low, i) => {
    const lo = Math.min(0, low);
    const hi = Math.max(0, highs[i]!);
    const scale = hi > lo ? Math.fround((hi - lo) / (range.max - range.min)) || 1 : 1;
    const zero = roundHalfToEven(range.min - lo / scale);
    scales.push(scale);
    zeros.push(Math.min(range.max, Math.max(range.min, zero)));
  });
  const shape = paramShape(lows, options.axis);
  const scale = Tensor.fromValues('float32', shape, scales);
  const zeroPoint = Tensor.fromValues(dtype, shape, zeros as ElementValues);
  return finish(tensor, scale, zeroPoint, options.axis, dtype);
}

function finish(tensor: Tensor, scale: Tensor, zeroPoint: Tensor, axis: number | undefined, dtype: QuantizedDType): QuantizedTensor {
  const values = quantizeLinear(tensor, scale, zeroPoint, axis === undefined ? {} : { axis });
  const normalized = axis === undefined ? undefined : axis < 0 ? axis + tensor.rank : axis;
  return { values, scale, zeroPoint, axis: normalized, dtype };
}
