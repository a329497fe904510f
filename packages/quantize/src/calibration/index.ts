// Calibration for quantization: streaming inputs, activations from ORT, mergeable statistics, ranges.
export {
  CALIBRATION_METHODS,
  CALIBRATION_DEFAULTS,
  checkCalibrationOptions,
  type CalibrationMethod,
  type CalibrationOptions,
  type TensorRange,
} from './options.js';
export {
  calibrate,
  collectStatistics,
  chooseRanges,
  mergeStatistics,
  createStatistics,
  statisticsToJSON,
  statisticsFromJSON,
  type TensorStatistics,
  type CalibrationStatistics,
  type CalibrationStatisticsJSON,
  type CalibrationCollection,
} from './calibrate.js';
export { MinMaxStatistics, type MinMaxStatisticsJSON } from './minmax-statistics.js';
export { HistogramStatistics, type HistogramStatisticsJSON, type HistogramRangeOptions } from './histogram-statistics.js';
export { HISTOGRAM_STRIDE_MIN_COUNTED, histogramStrideFor, histogramStrides } from './histogram-sampling.js';
export { percentileRange, entropyRange, entropyThreshold, distributionRange, histogramMoments, magnitudePercentile, withCoverage } from './histogram-ranges.js';
export {
  openCalibrationData,
  CALIBRATION_SOURCES,
  type CalibrationBatch,
  type CalibrationData,
  type CalibrationSource,
} from './calibration-data.js';
export { ActivationCollector } from './activation-collector.js';
export { StatisticsGraph, histogramOpset, defaultHistogramCounting, type HistogramCounting, type TensorSummary, type BinCountSink, type KeepingRun } from './statistics-graph.js';
export { CALIBRATION_SESSION_OPTIONS } from './session-options.js';
export { KNOWN_OUTPUT_RANGES, knownOutputRanges } from './known-ranges.js';
export { withStatisticsCollector, currentStatisticsCollector, type StatisticsCollector } from './statistics-collector.js';
