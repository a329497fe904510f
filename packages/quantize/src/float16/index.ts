export { convertFloat16 } from './convert-float16-pass.js';
export { KEPT_FLOAT32_OPS } from './float16-policy.js';
export { toHalfTensor, type HalfTensor, type HalfType } from './half-tensors.js';
