import { algebraicPatterns } from './algebraic.js';
import { consecutivePatterns } from './consecutive.js';
import { eliminationPatterns } from './eliminations.js';
import { reshapePatterns } from './reshape-copied-dims.js';
import type { TransformPattern } from './pattern.js';

export * from './algebraic.js';
export * from './consecutive.js';
export * from './eliminations.js';
export * from './fuse-conv.js';
export * from './fuse-gemm.js';
export * from './fuse-pad.js';
export * from './pattern.js';
export * from './reshape-copied-dims.js';

/**
 * The canonicalization table: rewrites that never change a single output bit (except the sign of a
 * zero for `x + 0`), indexed by op through `PatternSet`.
 */
export const canonicalPatterns: readonly TransformPattern[] = [...algebraicPatterns, ...eliminationPatterns, ...consecutivePatterns, ...reshapePatterns];
