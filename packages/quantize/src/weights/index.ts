export { quantizeWeights } from './quantize-weights-pass.js';
export { findLinearLayers, type LinearLayer, type LinearLayers, type SkippedLayer, type WeightLayout } from './linear-layers.js';
export { QuantizedWeight, type GroupQuantizationScheme } from './quantized-weight.js';
export { rtnParams, encodeValue, type GroupParams, type GroupView } from './group-params.js';
export { hqqParams, DEFAULT_HQQ, type HqqOptions } from './hqq.js';
export { gptqQuantize, DEFAULT_GPTQ, type GptqOptions } from './gptq.js';
export { quantizeGroupwise, rtnChooser, hqqChooser, type GroupParamsChooser } from './round-to-nearest.js';
export { matMulNBitsTensors, packCodes, MATMUL_NBITS, MICROSOFT_DOMAIN, type MatMulNBitsTensors } from './matmul-nbits.js';
export { collectHessians, type LayerHessian, type HessianOptions } from './activation-hessians.js';
