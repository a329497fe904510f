// quantize-static: placement plan, offline weights, calibrated activations, QDQ / QOperator lowering.
export {
  prepareForQuantization,
  planStaticQuantization,
  finishStaticQuantization,
  quantizeStaticWithRanges,
  type StaticQuantizationOptions,
  type StaticQuantizationResult,
  type QuantizedNodeRecord,
  type QuantizedFormat,
} from './quantize-static.js';
export { activationParams, type ActivationDType, type ActivationScheme, type CalibratedRange, type QuantizedActivationType } from './activation-params.js';
export type { QuantizationPlan, ActivationPlan, LeftFloat } from './plan.js';
export type { QuantizedTensorRecord, RangeLookup } from './apply-plan.js';
export { OP_RULES, QUANTIZABLE_OPS, type OpRule, type QuantRole } from './op-rules.js';
export { MIN_INT8_CONV_REDUCTION } from './cost-rules.js';
export type { WeightRange } from './weights.js';
export type { ReorderedPool } from './pool-before-activation.js';
export type { Composite } from './composites.js';
export { hardSigmoidsAsAdd, type HardSigmoidAsAdd } from './hard-sigmoid-as-add.js';
export { dataMovementOnIntegers, type IntegerDataMovement } from './integer-data-movement.js';
export { FLOAT_CONSTANT_MIN_ELEMENTS, FLOAT_CONSTANT_MIN_ELEMENTS_FLOOR } from './float-constants.js';
export { mergeGroupedConvs, mergedGroupCount, blockDiagonalWeight, MIN_GROUP_WIDTH, MAX_DENSE_GROUPS, MAX_MERGE, type MergedGroupedConv } from './grouped-conv-merge.js';
export { convertToQOperator } from './qoperator.js';
export { PER_CHANNEL_MIN_GAIN_DB, perChannelPaysOff, weightSqnrDb } from './weight-granularity.js';
export { correctBiases, floatSnapshot, type BiasCorrectionRecord, type BiasCorrectionResult } from './bias-correction.js';
export { standaloneHost, type StepHost } from './nested-pass.js';
export { quantizeStatic } from './quantize-static-pass.js';
export { buildQuantizationReport, formatQuantizationReport, type QuantizationReport, type TensorReportRow, type LayerReportOptions } from '../report/layer-report.js';
export { QuantizationErrorAccumulator } from '../report/quantization-error.js';
export { accuracyAwareExclusions, type AccuracyAwareResult, type AccuracyBudget, type LayerSensitivity } from '../accuracy/accuracy-aware.js';
