export { defineCanonicalOp, type CanonicalOp, type CanonicalOpInit, type Kernel, type KernelContext, type RuntimeValue } from './op-definition.js';
export { canonicalOps, canonicalSchemas, createOpRegistry, kernelFor } from './op-set.js';
