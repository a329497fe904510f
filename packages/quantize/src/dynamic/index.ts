export { quantizeDynamic } from './quantize-dynamic-pass.js';
export { findDynamicLayers, type DynamicLayer, type ConvLayer } from './dynamic-layers.js';
export { quantizeDynamicWeight, integerOperand, type DynamicWeight, type DynamicWeightType } from './dynamic-weights.js';
