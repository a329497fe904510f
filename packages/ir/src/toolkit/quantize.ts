import type { DType } from '../dtype.js';
import type { ElementValues } from '../element-codec.js';
import { Tensor } from '../tensor.js';
import { axisLayout, requireNumeric, toolkitError } from './layout.js';

/** Integer dtypes QuantizeLinear can write, with their ranges. */
export const QUANTIZED_DTYPES: Readonly<Record<string, { readonly min: number; readonly max: number; readonly bits: number }>> = Object.freeze({
  int8: { min: -128, max: 127, bits: 8 },
  uint8: { min: 0, max: 255, bits: 8 },
  int16: { min: -32768, max: 32767, bits: 16 },
  uint16: { min: 0, max: 65535, bits: 16 },
  int4: { min: -8, max: 7, bits: 4 },
  uint4: { min: 0, max: 15, bits: 4 },
});

export type QuantizedDType = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int4' | 'uint4';

/** The range of a quantized dtype, or a clear error naming the ones supported. */
export function quantizedRange(dtype: DType): { readonly min: number; readonly max: number; readonly bits: number } {
  const range = QUANTIZED_DTYPES[dtype];
  if (!range) throw toolkitError(`${dtype} is not a quantized integer dtype`, { expected: Object.keys(QUANTIZED_DTYPES).join(', '), actual: dtype });
  return range;
}

export interface QuantizeLinearOptions {
  /** Axis of per-axis or blocked parameters (ONNX's default: 1). Ignored for per-tensor parameters. */
  axis?: number;
  /** Elements along `axis` sharing one scale (ONNX opset 21 blocked quantization); 0 = not blocked. */
  blockSize?: number;
  /** Output dtype when no zero point is given (ONNX's default: uint8). */
  dtype?: QuantizedDType;
}

/** Where each element finds its scale and zero point. */
type ParamIndex = (element: number) => number;

/**
 * ONNX's parameter layouts: per-tensor (scalar or one element), per-axis (1-D, one per index along
 * `axis`), blocked (same rank, `ceil(dim / blockSize)` along `axis`).
 */
function paramIndex(shape: readonly number[], scale: Tensor, options: QuantizeLinearOptions, op: string): ParamIndex {
  const blockSize = options.blockSize ?? 0;
  if (blockSize === 0 && scale.size === 1 && scale.rank <= 1) return () => 0;
  const { axis, dim, inner } = axisLayout(shape, options.axis ?? 1, `${op} axis`);
  if (blockSize === 0) {
    if (scale.rank !== 1 || scale.shape[0] !== dim) {
      throw toolkitError(`${op}: per-axis scale must be 1-D with one element per index along axis ${axis}`, {
        expected: `[${dim}]`,
        actual: `[${scale.shape.join(',')}]`,
      });
    }
    return (element) => Math.floor(element / inner) % dim;
  }
  if (!Number.isInteger(blockSize) || blockSize < 0) throw toolkitError(`${op}: blockSize must be a non-negative integer`, { actual: String(blockSize) });
  const blocks = Math.ceil(dim / blockSize);
  const expected = shape.map((d, i) => (i === axis ? blocks : d));
  if (scale.rank !== shape.length || !scale.shape.every((d, i) => d === expected[i])) {
    throw toolkitError(`${op}: blocked scale must have the input's shape with ${blocks} block(s) along axis ${axis}`, {
      expected: `[${expected.join(',')}]`,
      actual: `[${scale.shape.join(',')}]`,
    });
  }
  return (element) => {
    const rest = element % inner;
    const index = Math.floor(element / inner);
    const c = index % dim;
    const o = Math.floor(index / dim);
    return (o * blocks + Math.floor(c / blockSize)) * inner + rest;
  };
}

/** Round half to even (IEEE `nearbyint` in the default mode), as ONNX QuantizeLinear rounds. */
export function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction < 0.5) return floor;
  if (fraction > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

function checkZeroPoint(zeroPoint: Tensor | undefined, scale: Tensor, op: string): void {
  if (!zeroPoint) return;
  if (zeroPoint.rank !== scale.rank || !zeroPoint.shape.every((d, i) => d === scale.shape[i])) {
    throw toolkitError(`${op}: zero point shape must match the scale's`, { expected: `[${scale.shape.join(',')}]`, actual: `[${zeroPoint.shape.join(',')}]` });
  }
}

/**
 * ONNX QuantizeLinear: `q = saturate(roundHalfToEven(x / scale) + zeroPoint)`, with `x / scale`
 * computed in float32 as ONNX Runtime does; ±inf saturate to the dtype's ends, NaN becomes the
 * dtype's minimum (ONNX leaves NaN undefined for integer outputs; ONNX Runtime writes the minimum). The output dtype is the zero
 * point's, else `options.dtype`, else uint8. Scales must be positive (a located error otherwise).
 */
export function quantizeLinear(x: Tensor, scale: Tensor, zeroPoint?: Tensor, options: QuantizeLinearOptions = {}): Tensor {
  requireNumeric(x, 'quantizeLinear');
  checkZeroPoint(zeroPoint, scale, 'quantizeLinear');
  const dtype = (zeroPoint?.dtype ?? options.dtype ?? 'uint8') as DType;
  const { min, max } = quantizedRange(dtype);
  const index = paramIndex(x.shape, scale, options, 'quantizeLinear');
  const scales = scale.toNumbers();
  for (const s of scales) {
    if (!(s > 0) || !Number.isFinite(s)) throw toolkitError('quantizeLinear: every scale must be a positive finite number', { actual: String(s) });
  }
  const zeros = zeroPoint ? zeroPoint.toNumbers() : new Array<number>(scales.length).fill(0);
  const values = x.toNumbers();
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const p = index(i);
    const scaled = Math.fround(Math.fround(values[i]!) / Math.fround(scales[p]!));
    if (Number.isNaN(scaled)) {
      out[i] = min;
      continue;
    }
    const q = roundHalfToEven(scaled) + zeros[p]!;
    out[i] = q < min ? min : q > max ? max : q;
  }
  return Tensor.fromValues(dtype, x.shape, out as ElementValues);
}

export interface DequantizeLinearOptions {
  /** Axis of per-axis or blocked parameters (ONNX's default: 1). */
  axis?: number;
  /** Elements along `axis` sharing one scale; 0 = not blocked. */
  blockSize?: number;
}

/**
 * ONNX DequantizeLinear: `y = float32(q - zeroPoint) * scale`, as ONNX Runtime computes it (bit-exact).
 * Takes the QuantizeLinear dtypes and int32 (biases). The output has the scale's dtype.
 */
export function dequantizeLinear(q: Tensor, scale: Tensor, zeroPoint?: Tensor, options: DequantizeLinearOptions = {}): Tensor {
  if (q.dtype !== 'int32') quantizedRange(q.dtype);
  checkZeroPoint(zeroPoint, scale, 'dequantizeLinear');
  if (zeroPoint && zeroPoint.dtype !== q.dtype) {
    throw toolkitError('dequantizeLinear: zero point dtype must match the input dtype', { expected: q.dtype, actual: zeroPoint.dtype });
  }
  const index = paramIndex(q.shape, scale, options, 'dequantizeLinear');
  const scales = scale.toNumbers();
  const zeros = zeroPoint ? zeroPoint.toNumbers() : new Array<number>(scales.length).fill(0);
  const values = q.toNumbers();
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const p = index(i);
    // ORT converts the integer difference to float32 first (inexact beyond 2^24: int32 inputs), then multiplies.
    out[i] = Math.fround(values[i]! - zeros[p]!) * scales[p]!;
  }
  return scale.dtype === 'float32' ? Tensor.fromValues('float32', q.shape, out) : Tensor.fromValues(scale.dtype, q.shape, Array.from(out));
}
