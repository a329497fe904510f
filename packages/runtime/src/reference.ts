/**
 * `@modelpass/runtime/reference`: the parts of the runtime that need no native engine — the
 * reference interpreter, seeded inputs and output comparison. Importing this entry never loads
 * onnxruntime-node, so a bundler can put it in a browser page (see `@modelpass/web`).
 */
export type { Engine, Feeds, ModelSource, RunOptions } from './engine.js';
export { feedsToMap } from './engine.js';
export { ReferenceEngine, type ReferenceEngineOptions, type RunGuard } from './reference-engine.js';
export { SeededRandom } from './prng.js';
export { generateInputs, randomTensor, feedableInputs, DEFAULT_FLOAT_RANGE, DEFAULT_INTEGER_RANGE, generatedIndexRanges, type GeneratedIndexRange, type GenerateInputsOptions, type ValueRange } from './generate-inputs.js';
export { compareOutputs, compareTensors, DEFAULT_ATOL, DEFAULT_RTOL, UNDER_ATOL_SCALE, type CompareOptions, type ComparisonReport, type OutputComparison, type WorstElement } from './compare.js';
