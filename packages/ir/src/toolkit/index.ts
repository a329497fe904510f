export { toAttributes, type AttributeInits, type PlainAttributeValue } from './attribute-init.js';
export { normalizeAxis, axisLayout, type AxisLayout } from './layout.js';
export { takeAlongAxis, sliceAlongAxis, concatAlongAxis } from './slicing.js';
export { reduceAlongAxis, REDUCTIONS, type Reduction } from './reductions.js';
export { castFloatTensor, toFloat16, toBfloat16, toFloat32, type FloatCastTarget } from './float-cast.js';
export {
  quantizeLinear,
  dequantizeLinear,
  quantizedRange,
  roundHalfToEven,
  QUANTIZED_DTYPES,
  type QuantizedDType,
  type QuantizeLinearOptions,
  type DequantizeLinearOptions,
} from './quantize.js';
export { quantizeSymmetric, quantizeAsymmetric, type QuantizedTensor, type QuantizeParamsOptions } from './quant-params.js';
export { weightOutputAxis, WEIGHT_AXIS_OPS } from './weight-axis.js';
