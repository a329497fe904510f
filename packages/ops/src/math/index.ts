import type { CanonicalOp } from '../op-definition.js';

/** Elementwise math, activations, reductions, comparisons, logic, casts, quantization. */
export const mathOps: readonly CanonicalOp[] = [];
