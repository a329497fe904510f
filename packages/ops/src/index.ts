export { defineCanonicalOp, type CanonicalOp, type CanonicalOpInit, type Kernel, type KernelContext, type RuntimeValue } from './op-definition.js';
export { canonicalOps, canonicalSchemas, createOpRegistry, kernelFor } from './op-set.js';
export { runReference, NEWEST_KNOWN_OPSET, type RunReferenceOptions } from './interpreter/run-reference.js';
export { inferShapes, mergeTypes, type InferShapesResult } from './interpreter/infer-shapes.js';
export { instantiateFunction } from './interpreter/function-instantiation.js';
