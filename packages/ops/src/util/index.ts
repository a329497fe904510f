/**
 * Utilities shared by the math and nn kernels and inference functions (internal to @modelpass/ops;
 * a few are also exported from the package entry).
 */
export * from './shape.js';
export * from './elements.js';
export * from './kernel-io.js';
export * from './inference.js';
