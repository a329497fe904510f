/**
 * Scale and zero point of one quantization group, and the code of a value under them.
 *
 * Round-to-nearest (RTN) picks them from the group's range:
 * - asymmetric: `scale = (max - min) / (2^bits - 1)`, `zeroPoint = round(-min / scale)` clamped to
 *   the code range, so the group's whole range maps onto the codes;
 * - symmetric: `scale = max|w| / (2^(bits-1) - 1)`, `zeroPoint = 2^(bits-1)` (codes 1..2^bits-1
 *   used, like int4/int8 symmetric ranges ±7/±127).
 * A constant group gets a scale that represents its value (or 1 when it is all zeros).
 */
import type { GroupQuantizationScheme } from './quantized-weight.js';

export interface GroupParams {
  /** float32 value. */
  readonly scale: number;
  readonly zeroPoint: number;
}

/** Elements of a group: `values[start + i·stride]` for `i < length`. */
export interface GroupView {
  readonly values: ArrayLike<number>;
  readonly start: number;
  readonly length: number;
  readonly stride?: number;
}

export function maxCodeOf(bits: number): number {
  return (1 << bits) - 1;
}

/** `clamp(round(value / scale + zeroPoint))` (halves round up), through the scale's inverse as the quantizers do. */
export function encodeValue(value: number, params: GroupParams, maxCode: number): number {
  const code = Math.round(value * (1 / params.scale) + params.zeroPoint);
  return code < 0 ? 0 : code > maxCode ? maxCode : code;
}

export function groupRange(group: GroupView): { min: number; max: number } {
  const stride = group.stride ?? 1;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0, at = group.start; i < group.length; i++, at += stride) {
    const v = group.values[at]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

export function rtnParams(group: GroupView, scheme: GroupQuantizationScheme): GroupParams {
  const { min, max } = groupRange(group);
  const maxCode = maxCodeOf(scheme.bits);
  if (scheme.symmetric) {
    const half = 1 << (scheme.bits - 1);
    const absmax = Math.max(Math.abs(min), Math.abs(max));
    return { scale: Math.fround(absmax / (half - 1)) || 1, zeroPoint: half };
  }
  if (!(max > min)) {
    // A constant group: code 0 or maxCode stands for its value exactly.
    const value = min;
    if (value === 0) return { scale: 1, zeroPoint: 0 };
    return value > 0 ? { scale: Math.fround(value / maxCode), zeroPoint: 0 } : { scale: Math.fround(-value / maxCode), zeroPoint: maxCode };
  }
  const scale = Math.fround((max - min) / maxCode);
  const zeroPoint = Math.min(maxCode, Math.max(0, Math.round(-min / scale)));
  return { scale, zeroPoint };
}
