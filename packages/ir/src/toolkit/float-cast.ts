import type { DType } from '../dtype.js';
import { Tensor } from '../tensor.js';
import { requireNumeric, toolkitError } from './layout.js';

/** The float dtypes whole-tensor conversion writes. */
export type FloatCastTarget = 'float32' | 'float16' | 'bfloat16' | 'float64';

const TARGETS: ReadonlySet<DType> = new Set<DType>(['float32', 'float16', 'bfloat16', 'float64']);

/**
 * A copy of `tensor` with every element converted to `dtype` (round to nearest even; values beyond
 * the range become ±inf; NaN stays NaN). Works from any real dtype (integers included).
 */
export function castFloatTensor(tensor: Tensor, dtype: FloatCastTarget): Tensor {
  requireNumeric(tensor, `castFloatTensor to ${dtype}`);
  if (!TARGETS.has(dtype)) throw toolkitError(`castFloatTensor cannot write ${dtype}`, { expected: [...TARGETS].join(', ') });
  if (tensor.dtype === dtype) return tensor;
  return Tensor.fromValues(dtype, tensor.shape, tensor.toNumbers());
}

/** `castFloatTensor(tensor, 'float16')`. */
export function toFloat16(tensor: Tensor): Tensor {
  return castFloatTensor(tensor, 'float16');
}

/** `castFloatTensor(tensor, 'bfloat16')`. */
export function toBfloat16(tensor: Tensor): Tensor {
  return castFloatTensor(tensor, 'bfloat16');
}

/** `castFloatTensor(tensor, 'float32')` (exact from float16/bfloat16). */
export function toFloat32(tensor: Tensor): Tensor {
  return castFloatTensor(tensor, 'float32');
}
