export { defineCanonicalOp, type CanonicalOp, type CanonicalOpInit, type Kernel, type KernelContext, type RuntimeValue } from './op-definition.js';
export { canonicalOps, canonicalSchemas, createOpRegistry, kernelFor } from './op-set.js';
export {
  broadcastDim,
  broadcastShapes,
  broadcastStaticShapes,
  broadcastIndexMap,
  broadcastRuns,
  type BroadcastRuns,
  normalizeAxis,
  normalizeAxes,
  reducedShape,
  stridesOf,
  sizeOf,
  transposedOrder,
} from './util/shape.js';
export { allocateElements, tensorFromElements, readElements, viewElements, viewNumbers, readNumbers, readBigInts, readInts, integerRange, floatMax, roundHalfToEven, isBigIntDType, type ElementBuffer, type IntegerRange } from './util/elements.js';
export { castTensor, formatFloat32 } from './math/cast.js';
export { parseEinsum, type EinsumPlan } from './math/einsum.js';
export { quantParamIndexMap } from './math/quantize.js';
export { erf } from './math/erf.js';
export { runReference, NEWEST_KNOWN_OPSET, type RunReferenceOptions } from './interpreter/run-reference.js';
export { inferShapes, mergeTypes, type InferShapesOptions, type InferShapesResult } from './interpreter/infer-shapes.js';
export { instantiateFunction } from './interpreter/function-instantiation.js';
export { mathOps, mathOpNames } from './math/index.js';
export { nnOpNames } from './nn/index.js';
export { isRandomOp } from './nn/random-ops.js';
export { rnnOps, rnnOpNames, RECURRENT_ACTIVATION_NAMES } from './rnn/index.js';
export { inputDimValues, type DimValues, type ShapeInferenceContext } from './interpreter/symbolic-values.js';
export * from './cost/index.js';
export { onnxTypeSignatures } from './verify/type-constraint-check.js';
export { propagatedValues, type PropagatedValuesOptions } from './verify/propagated-values.js';
export { withTypesRestored } from './interpreter/types-restored.js';
export { TypeSignatures, typeKey, type TypeSignature, type FormalParam, type ParamArity, type OnnxSignatureTable, type OnnxSignatureVersion } from './verify/type-signature.js';
export { contribOps, contribSchemas, MICROSOFT_DIALECT, matMulNBitsLayout, packedWeightsOf, parameterCount, type MatMulNBitsLayout, type PackedWeights } from './contrib/index.js';
export { WINDOW_COEFFICIENTS, cosineWindow, melWeightMatrix } from './math/windows.js';
export { col2ImGeometry, col2ImTargets, col2ImBlockCounts, type Col2ImGeometry } from './nn/col2im.js';
