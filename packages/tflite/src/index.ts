// @modelpass/tflite — TFLite reader/writer, the tflite dialect, layout and legalization.
export * from './dialect/index.js';
export * from './reader/index.js';
export { META_OPERATOR_VERSION, META_TENSOR_NAME, META_VARIABLE, META_SIGNATURE_DEFS, META_METADATA_PREFIX, META_DESCRIPTION, META_SHAPE_BOUND } from './io/metadata-keys.js';
export type { SignatureDefJson } from './io/signature-defs.js';
export * from './writer/index.js';
// Layout conversion and legalization (canonical NCHW ⇄ tflite NHWC).
export { analyzeLayout, layoutAnalysis, CHANNELS_FIRST_OPS, type LayoutAnalysis, type LayoutStop } from './layout/layout-analysis.js';
export { declareChannelsLast } from './layout/io-layout.js';
export { IO_LAYOUT_METADATA_NAME, META_IO_LAYOUT, recordChannelsLastIo, channelsLastIoOf, forgetChannelsLast, type ChannelsLastIo } from './layout/io-layout-metadata.js';
export { countTransposes, type TransposeCount } from './layout/transpose-count.js';
export { legalizeTflite } from './legalize/legalize-pass.js';
export { lowerToTflite, unmappableNodes, assertLowerable, withTfliteDialect, type LegalizeResult } from './legalize/legalize.js';
export { prepareCanonicalForTflite } from './legalize/prepare.js';
export { freezeDefaultedInputs, defaultedInputs } from './legalize/defaulted-inputs.js';
export { float64AsFloat32, type Float64Result } from './legalize/float64-as-float32.js';
export { boundDataDependentShapes } from './legalize/shape-bounds.js';
export { prepareQuantizedForTflite, hasQuantizedActivations, type QuantizedPrepareOptions, type QuantizedPrepareResult } from './legalize/quantized/prepare-quantized.js';
export { finishInt8, type Int8FinishResult } from './legalize/quantized/finish-int8.js';
export { int8Ops } from './legalize/quantized/int8-ops.js';
export { int16Ops } from './legalize/quantized/int16x8.js';
export { fuseActivations, FUSING_OPS, FUSIBLE_ACTIVATIONS } from './legalize/fuse-activations.js';
export { LoweringRegistry, DEFAULT_LEGALIZE_OPTIONS, type LoweringRule, type LoweringContext, type LegalizeOptions } from './legalize/lowering-rule.js';
export { defaultLoweringRules } from './legalize/rules/index.js';
export { onnx2tfCoverage, summarizeCoverage, HANDLED_BEFORE_LOWERING, type OpCoverage, type CoverageKind } from './legalize/coverage.js';
export { ONNX2TF_OPS } from './legalize/onnx2tf-ops.js';
export { declareChannelsFirst } from './layout/io-layout.js';
export { raiseTflite } from './raise/raise-pass.js';
export { raiseFromTflite, unraisableNodes, type RaiseOptions, type RaiseResult } from './raise/raise.js';
export type { Float16Weights, Float16WeightsMode } from './raise/float16-weights.js';
export { RaiseRegistry, type RaiseRule, type RaiseContext } from './raise/raise-rule.js';
export { defaultRaiseRules } from './raise/rules/index.js';
/** The passes of this package, for a pass registry. */
export { tflitePasses } from './passes.js';
export type { OptionsField, FbsScalar } from './schema/table-types.js';
export type { ResolvedTfliteReadLimits } from './reader/read-limits.js';
