/**
 * GPTQ (Frantar et al. 2022): quantize the columns of W (one reduction index k at a time, all
 * output features together) and push each column's rounding error onto the columns not yet
 * quantized, weighted by the inverse Hessian of the layer's reconstruction error, H = XᵀX over the
 * calibration inputs X of the layer:
 *
 *   U = upper Cholesky factor of (H + λI)⁻¹,  λ = damp · mean(diag H)
 *   for each column i:  q = Q(w_i);  e = (w_i - q) / U[i][i];  w_j -= e · U[i][j]  (j > i)
 *
 * Columns are processed in blocks (the update of later blocks is applied once per block) and
 * group parameters are chosen, RTN-style, from the already updated weights when a group starts.
 * Columns whose inputs were always zero (H[i][i] = 0) are dropped (weights set to 0).
 */
import { ModelpassError } from '@modelpass/ir';
import { encodeValue, maxCodeOf, type GroupParams } from './group-params.js';
import { choleskyLower, choleskyUpper, inverseFromCholesky } from './dense-linear-algebra.js';
import type { GroupParamsChooser } from './round-to-nearest.js';
import { QuantizedWeight, type GroupQuantizationScheme } from './quantized-weight.js';

export interface GptqOptions {
  /** Dampening, a fraction of the mean diagonal of H added to it (0.01 in the paper). */
  readonly damp: number;
  /** Columns per lazy-update block (rounded up to a multiple of the group size). */
  readonly blockSize: number;
}

export const DEFAULT_GPTQ: GptqOptions = { damp: 0.01, blockSize: 128 };

function dampedInverseFactor(hessian: Float64Array, k: number, damp: number, layer: string): Float64Array {
  let mean = 0;
  for (let i = 0; i < k; i++) mean += hessian[i * k + i]!;
  mean /= k;
  for (let attempt = 0, factor = damp; attempt < 6; attempt++, factor *= 10) {
    const damped = hessian.slice();
    for (let i = 0; i < k; i++) damped[i * k + i]! += factor * mean;
    const lower = choleskyLower(damped, k);
    if (!lower) continue;
    const upper = choleskyUpper(inverseFromCholesky(lower, k), k);
    if (upper) return upper;
  }
  throw new ModelpassError({
    reason: `GPTQ: the Hessian of layer '${layer}' stays singular after dampening`,
    hint: 'give more calibration samples, or use method=rtn for this model',
    source: '@modelpass/quantize',
  });
}

/**
 * GPTQ of `weight` (`[n][k]`, modified in place) with `hessian` (`[k][k]`, modified: dead columns
 * get 1 on the diagonal).
 */
export function gptqQuantize(
  weight: Float64Array,
  hessian: Float64Array,
  shape: { readonly k: number; readonly n: number },
  scheme: GroupQuantizationScheme,
  choose: GroupParamsChooser,
  options: GptqOptions = DEFAULT_GPTQ,
  layer = 'layer',
): QuantizedWeight {
  const { k, n } = shape;
  const result = new QuantizedWeight(k, n, scheme);
  const maxCode = maxCodeOf(scheme.bits);
  for (let i = 0; i < k; i++) {
    if (hessian[i * k + i] === 0) {
      hessian[i * k + i] = 1;
      for (let row = 0; row < n; row++) weight[row * k + i] = 0;
    }
  }
  const u = dampedInverseFactor(hessian, k, options.damp, layer);
  const groupSize = scheme.groupSize;
  const perChannel = groupSize >= k;
  const block = perChannel ? options.blockSize : Math.ceil(options.blockSize / groupSize) * groupSize;
  const params: GroupParams[] = new Array<GroupParams>(n);
  const chooseGroup = (start: number) => {
    const length = Math.min(groupSize, k - start);
    for (let row = 0; row < n; row++) {
      params[row] = choose({ values: weight, start: row * k + start, length }, scheme);
      const g = row * result.groups + Math.floor(start / groupSize);
      result.scales[g] = params[row]!.scale;
      result.zeroPoints[g] = params[row]!.zeroPoint;
      if (!Number.isInteger(params[row]!.zeroPoint)) result.fractionalZeroPoints = true;
    }
  };
  if (perChannel) chooseGroup(0);
  const errors = new Float64Array(n * block);
  for (let i1 = 0; i1 < k; i1 += block) {
    const i2 = Math.min(k, i1 + block);
    const width = i2 - i1;
    for (let i = i1; i < i2; i++) {
      if (!perChannel && i % groupSize === 0) chooseGroup(i);
      const d = u[i * k + i]!;
      for (let row = 0; row < n; row++) {
        const at = row * k;
        const w = weight[at + i]!;
        const p = params[row]!;
        const code = encodeValue(w, p, maxCode);
        result.codes[result.codeIndex(row, i)] = code;
        const q = (code - p.zeroPoint) * p.scale;
        const error = (w - q) / d;
        errors[row * block + (i - i1)] = error;
        for (let j = i + 1; j < i2; j++) weight[at + j]! -= error * u[i * k + j]!;
      }
    }
    if (i2 < k) {
      for (let row = 0; row < n; row++) {
        const at = row * k;
        for (let i = 0; i < width; i++) {
          const error = errors[row * block + i]!;
          if (error === 0) continue;
          const uRow = (i1 + i) * k;
          for (let j = i2; j < k; j++) weight[at + j]! -= error * u[uRow + j]!;
        }
      }
    }
  }
  result.padWithZeroPoints();
  return result;
}
