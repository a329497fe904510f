/**
 * The quantization methods against the errors they minimize, on seeded data: GPTQ's layer output
 * error ‖X(W − Ŵ)‖ is below round-to-nearest's for correlated inputs X (what its Hessian is for);
 * HQQ's l_p (p = 0.7) weight error is never above RTN's for groups with outliers; codes, scales
 * and zero points reconstruct the weights within one step (RTN).
 */
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '@modelpass/runtime';
import { DEFAULT_GPTQ, DEFAULT_HQQ, encodeValue, gptqQuantize, hqqParams, QuantizedWeight, rtnParams, type GroupQuantizationScheme } from '@modelpass/quantize';

const scheme: GroupQuantizationScheme = { bits: 4, groupSize: 32, symmetric: false };

function heavyTailed(random: SeededRandom, count: number): Float64Array {
  return Float64Array.from({ length: count }, () => {
    const u = random.uniform(-1, 1);
    return random.nextFloat() < 0.03 ? 8 * u : u * 0.5;
  });
}

/** RTN of a [n][k] matrix with the same grouping. */
function rtn(weight: Float64Array, k: number, n: number): QuantizedWeight {
  const result = new QuantizedWeight(k, n, scheme);
  for (let row = 0; row < n; row++) {
    for (let g = 0; g < result.groups; g++) {
      const start = row * k + g * scheme.groupSize;
      const length = Math.min(scheme.groupSize, k - g * scheme.groupSize);
      const params = rtnParams({ values: weight, start, length }, scheme);
      result.scales[row * result.groups + g] = params.scale;
      result.zeroPoints[row * result.groups + g] = params.zeroPoint;
      for (let i = 0; i < length; i++) result.codes[result.codeIndex(row, g * scheme.groupSize + i)] = encodeValue(weight[start + i]!, params, 15);
    }
  }
  return result;
}

/** Σ over samples of ‖x (W − Ŵ)‖² for rows x of X [m][k]. */
function outputError(x: Float64Array, m: number, weight: Float64Array, quantized: QuantizedWeight): number {
  const { k, n } = quantized;
  let total = 0;
  for (let s = 0; s < m; s++) {
    for (let row = 0; row < n; row++) {
      let diff = 0;
      for (let i = 0; i < k; i++) diff += x[s * k + i]! * (weight[row * k + i]! - quantized.dequantized(i, row));
      total += diff * diff;
    }
  }
  return total;
}

describe('quantization methods', () => {
  it('GPTQ: lower layer-output error than RTN on correlated inputs (and on fresh samples of the same distribution)', () => {
    const random = new SeededRandom(7);
    const k = 96;
    const n = 24;
    const m = 400;
    const weight = heavyTailed(random, n * k);
    // correlated inputs: a few latent factors mixed into every feature, plus noise
    const sample = (count: number) => {
      const x = new Float64Array(count * k);
      const mixing = Float64Array.from({ length: 4 * k }, (_, i) => Math.sin(i * 1.7));
      for (let s = 0; s < count; s++) {
        const factors = [0, 1, 2, 3].map(() => random.uniform(-2, 2));
        for (let i = 0; i < k; i++) x[s * k + i] = factors.reduce((sum, f, j) => sum + f * mixing[j * k + i]!, 0) + 0.1 * random.uniform(-1, 1);
      }
      return x;
    };
    const calibration = sample(m);
    const hessian = new Float64Array(k * k);
    for (let s = 0; s < m; s++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) hessian[i * k + j]! += (2 / m) * calibration[s * k + i]! * calibration[s * k + j]!;
    const gptq = gptqQuantize(weight.slice(), hessian, { k, n }, scheme, (group, s) => rtnParams(group, s), DEFAULT_GPTQ);
    const baseline = rtn(weight, k, n);
    const fresh = sample(200);
    const [gptqError, rtnError] = [outputError(fresh, 200, weight, gptq), outputError(fresh, 200, weight, baseline)];
    expect(gptqError).toBeLessThan(0.7 * rtnError);
    expect(outputError(calibration, m, weight, gptq)).toBeLessThan(outputError(calibration, m, weight, baseline));
  });

  it('HQQ: l_p weight error never above RTN, zero points fractional; RTN within one step', () => {
    const random = new SeededRandom(3);
    let hqqTotal = 0;
    let rtnTotal = 0;
    let fractional = 0;
    for (let g = 0; g < 200; g++) {
      const values = heavyTailed(random, 32);
      const group = { values, start: 0, length: 32 };
      const base = rtnParams(group, scheme);
      const refined = hqqParams(group, scheme, DEFAULT_HQQ);
      const error = (p: { scale: number; zeroPoint: number }) => values.reduce((sum, w) => sum + Math.abs(w - (encodeValue(w, p, 15) - p.zeroPoint) * p.scale) ** 0.7, 0);
      expect(error(refined)).toBeLessThanOrEqual(error(base) + 1e-12);
      hqqTotal += error(refined);
      rtnTotal += error(base);
      if (!Number.isInteger(refined.zeroPoint)) fractional++;
      // inside the range, half a step; the rounded zero point may push an end value out by up to one more half step
      for (const w of values) expect(Math.abs(w - (encodeValue(w, base, 15) - base.zeroPoint) * base.scale)).toBeLessThanOrEqual(base.scale + 1e-6);
    }
    expect(hqqTotal).toBeLessThan(0.95 * rtnTotal);
    expect(fractional).toBeGreaterThan(100);
  });
});
