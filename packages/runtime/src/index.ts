export type { Engine, Feeds, ModelSource, RunOptions } from './engine.js';
export { feedsToMap } from './engine.js';
export { createEngine, defaultEngineFor, refereeEngineOptions, ENGINE_NAMES, type CreateEngineOptions, type EngineName } from './engines.js';
export { setRunTimeLimit, runTimeLimit, withRunTimeLimit, type RunTimeLimit } from './run-time-limit.js';
export { OrtRunner, runOrt, disposeSharedOrtRunner, intraOpSpinning, loadOrt as loadOnnxRuntime, type OrtRunnerOptions, type OrtSessionInfo, type OrtValueInfo } from './ort-runner.js';
export { toOrtTensor, fromOrtTensor, dtypeFromOrtType, ORT_DTYPES } from './ort-tensor.js';
export { ReferenceEngine, type ReferenceEngineOptions, type RunGuard } from './reference-engine.js';
export { loadModel, describeModelSource, isTflitePath, registerModelReader, type ModelFileReader } from './model-source.js';
export { SeededRandom } from './prng.js';
export {
  generateInputs,
  randomTensor,
  feedableInputs,
  DEFAULT_FLOAT_RANGE,
  DEFAULT_INTEGER_RANGE,
  generatedIndexRanges,
  type GeneratedIndexRange,
  type GenerateInputsOptions,
  type ValueRange,
} from './generate-inputs.js';
export { decodeNpy, encodeNpy, readNpy, readNpyRows, writeNpy, NPY_DESCRIPTORS } from './npy.js';
export { decodeNpyLayout, type NpyLayout } from './npy.js';
export { loadInputs, loadTestDataSet, readTensorFile, listTensorFiles, resolveInputFolder, TENSOR_FILE_EXTENSIONS, type LoadInputsOptions, type TestDataSet } from './load-inputs.js';
export { linkOutOfFolder } from './folder-links.js';
export {
  compareOutputs,
  compareTensors,
  DEFAULT_ATOL,
  DEFAULT_RTOL,
  DEFAULT_RELATIVE_FLOOR,
  UNDER_ATOL_SCALE,
  type CompareOptions,
  type ComparisonReport,
  type OutputComparison,
  type WorstElement,
  unflattenIndex,
} from './compare.js';
export { compareModels, resolveComparisonInputs, symbolicInputDims, type CompareModelsOptions, type ModelComparison } from './compare-models.js';
export { checkMemoryBudget, estimateRunMemory, defaultMemoryBudget, type MemoryEstimate, type PlannedInput } from './compare-budget.js';
export {
  decodeIdx,
  readIdx,
  loadIdxDataset,
  loadFashionMnist,
  datasetBatches,
  FASHION_MNIST_DIR,
  FASHION_MNIST_CLASSES,
  type LabelledDataset,
  type Normalization,
  type Batch,
  type BatchOptions,
  type SampleLayout,
} from './idx-dataset.js';
export { loadDataset, DATASET_SCHEMES, type DatasetSpecOptions } from './dataset-spec.js';
export { streamDatasetSamples, type StreamSamplesOptions, type SampleBatch } from './dataset-stream.js';
export { readDatasetRange, datasetSampleCount, type DatasetRangeOptions } from './dataset-range.js';
export { countDatasetReads, type DatasetReads, type FileReads } from './dataset-read-counter.js';
export { evaluateAccuracy, type EvaluateAccuracyOptions, type AccuracyResult } from './accuracy.js';
export { LruCache } from './lru-cache.js';
export { checkRegularFile, readRegularFile, describeFileKind } from './regular-file.js';
export { TfliteEngine, type TfliteEngineOptions, type TfliteValueInfo } from './tflite-engine.js';
export { TorchEngine, isTorchScriptPath, TORCH_SETUP_HINT, type TorchEngineOptions } from './torch-engine.js';
