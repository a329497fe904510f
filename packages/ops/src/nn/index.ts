import type { CanonicalOp } from '../op-definition.js';

/** Convolution, pooling, normalization, matrix products, shape manipulation, indexing, control flow. */
export const nnOps: readonly CanonicalOp[] = [];
