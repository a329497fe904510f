/**
 * HQQ (Half-Quadratic Quantization, Badri & Shaji 2023): starting from the RTN parameters, refine
 * the zero point of each group by alternating
 *   1. codes q = clamp(round(w / s + z)),
 *   2. a sparse error e = shrink_p(w - (q - z)·s, β)  (the proximal step of an l_p norm, p < 1,
 *      which lets a few outliers keep their error instead of pulling the whole group),
 *   3. z = mean(q - (w - e) / s),
 * with β growing by κ each step, until the l_p reconstruction error stops falling (or
 * `iterations` steps); the zero point with the smallest error wins.
 * The scale stays RTN's. Zero points come out fractional unless `integerZeroPoints` (ONNX
 * DequantizeLinear needs integers; MatMulNBits takes float zero points).
 */
import { maxCodeOf, rtnParams, type GroupParams, type GroupView } from './group-params.js';
import type { GroupQuantizationScheme } from './quantized-weight.js';

export interface HqqOptions {
  readonly iterations: number;
  /** The l_p exponent of the error model (0.7 in the paper). */
  readonly p: number;
  readonly beta: number;
  readonly kappa: number;
  readonly integerZeroPoints: boolean;
}

export const DEFAULT_HQQ: HqqOptions = { iterations: 20, p: 0.7, beta: 10, kappa: 1.01, integerZeroPoints: false };

function codeOf(value: number, scale: number, zero: number, maxCode: number): number {
  const code = Math.round(value * (1 / scale) + zero);
  return code < 0 ? 0 : code > maxCode ? maxCode : code;
}

export function hqqParams(group: GroupView, scheme: GroupQuantizationScheme, options: HqqOptions = DEFAULT_HQQ): GroupParams {
  const start = rtnParams(group, scheme);
  if (scheme.symmetric || group.length === 0) return start;
  const maxCode = maxCodeOf(scheme.bits);
  const stride = group.stride ?? 1;
  const scale = start.scale;
  let zero = start.zeroPoint;
  let best = { zero, error: Infinity };
  let beta = options.beta;
  for (let iteration = 0; iteration < options.iterations; iteration++) {
    // One sweep: the l_p error of the current zero point, and the update from the shrunk residuals
    // (|r|^(p-1) = |r|^p / |r|, one pow per element).
    let error = 0;
    let sum = 0;
    for (let i = 0, at = group.start; i < group.length; i++, at += stride) {
      const w = group.values[at]!;
      const q = codeOf(w, scale, zero, maxCode);
      const residual = w - (q - zero) * scale;
      const magnitude = Math.abs(residual);
      let shrunk = 0;
      if (magnitude > 0) {
        const powered = Math.pow(magnitude, options.p);
        error += powered;
        const reduced = magnitude - powered / magnitude / beta;
        if (reduced > 0) shrunk = residual > 0 ? reduced : -reduced;
      }
      sum += q - (w - shrunk) / scale;
    }
    // HQQ stops once the error no longer falls.
    if (error >= best.error) break;
    best = { zero, error };
    zero = sum / group.length;
    if (options.integerZeroPoints) zero = Math.min(maxCode, Math.max(0, Math.round(zero)));
    beta *= options.kappa;
  }
  return { scale, zeroPoint: options.integerZeroPoints ? best.zero : Math.fround(best.zero) };
}
