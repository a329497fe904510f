/**
 * Calibration: run the model in ONNX Runtime batch by batch, fold each requested tensor's values
 * into mergeable statistics (running min/max, or a streaming histogram for percentile, entropy and
 * distribution), then choose each tensor's range. `collectStatistics` and `chooseRanges` are the two
 * halves, so shards of a run can be collected apart, merged (`mergeStatistics`) and chosen once.
 */
import type { Model, Tensor } from '@modelpass/ir';
import { BatchStatistics } from './batch-statistics.js';
import { batchParts, batchesCanSplit, uniformPartSize } from './batch-split.js';
import { openCalibrationData } from './calibration-data.js';
import { HistogramStatistics, type HistogramStatisticsJSON } from './histogram-statistics.js';
import { histogramStrides } from './histogram-sampling.js';
import { MinMaxStatistics, type MinMaxStatisticsJSON } from './minmax-statistics.js';
import { CALIBRATION_DEFAULTS, calibrationError, checkCalibrationOptions, type CalibrationMethod, type CalibrationOptions, type TensorRange } from './options.js';

/** One tensor's statistics: min/max for `minmax`, a histogram for the other methods. */
export type TensorStatistics = MinMaxStatistics | HistogramStatistics;

/** Statistics per tensor name, with the method they were collected for and the samples seen. */
export interface CalibrationStatistics {
  readonly method: CalibrationMethod;
  readonly samples: number;
  readonly tensors: Map<string, TensorStatistics>;
  /**
   * How `collectStatistics` collected them: tensors summarized inside ORT (only min/max/sum/count
   * and histogram counts left it), tensors whose values were read in JavaScript, and how many
   * (tensor, part) pairs were read again from their values (NaN/±Infinity, see `StatisticsGraph`).
   */
  readonly collection?: CalibrationCollection;
}

export interface CalibrationCollection {
  readonly inGraph: readonly string[];
  readonly fromValues: readonly string[];
  readonly recollected: number;
}

export interface CalibrationStatisticsJSON {
  readonly method: CalibrationMethod;
  readonly samples: number;
  readonly tensors: Record<string, MinMaxStatisticsJSON | HistogramStatisticsJSON>;
}

/**
 * Empty statistics of the kind `options.method` needs; `stride`: the histogram's stride (1: every
 * value; `histogramStrides` gives each tensor's for `options.histogramStride`).
 */
export function createStatistics(options: Pick<CalibrationOptions, 'method' | 'bins' | 'movingAverage'>, stride = 1): TensorStatistics {
  return options.method === 'minmax' ? new MinMaxStatistics(options.movingAverage) : new HistogramStatistics(options.bins ?? CALIBRATION_DEFAULTS.bins, stride);
}

/** Runs the model on the calibration data and folds every batch's values of `tensors` into statistics. */
export async function collectStatistics(model: Model, tensors: readonly string[], options: CalibrationOptions): Promise<CalibrationStatistics> {
  checkCalibrationOptions(options);
  const names = [...new Set(tensors)];
  const strides = options.method === 'minmax' ? undefined : histogramStrides(model, names, options.histogramStride ?? CALIBRATION_DEFAULTS.histogramStride);
  const statistics = new Map<string, TensorStatistics>(names.map((name) => [name, createStatistics(options, strides?.get(name))]));
  if (names.length === 0) return { method: options.method, samples: 0, tensors: statistics };
  // A source that leaves samples out (a fixed batch) says so itself; the shortfall note below is then not repeated.
  let sourceWarned = false;
  const data = openCalibrationData(model, { ...options, warn: (message) => ((sourceWarned = true), options.warn?.(message)) });
  const collector = await BatchStatistics.open(model, statistics, options.method === 'minmax' ? undefined : (options.bins ?? CALIBRATION_DEFAULTS.bins));
  // A moving average is over batches as given, so those are never split.
  const split = batchesCanSplit(model) && options.movingAverage === undefined;
  const budget = options.activationBudget ?? CALIBRATION_DEFAULTS.activationBudget;
  const nominalBatch = options.batchSize ?? CALIBRATION_DEFAULTS.batchSize;
  let bytesPerSample: number | undefined;
  let samples = 0;
  let lastBatchBytes = 0;
  const nonFiniteInputs = new Map<string, number>();
  try {
    for await (const batch of data) {
      for (const [name, feed] of batch.feeds) {
        const count = nonFiniteValues(feed);
        if (count > 0) nonFiniteInputs.set(name, (nonFiniteInputs.get(name) ?? 0) + count);
      }
      // The previous batch is unreferenced now: a quiet point to collect its buffers and its runs'.
      collector.betweenBatches(lastBatchBytes);
      const partSize = () => (!split ? batch.samples : bytesPerSample === undefined ? 1 : uniformPartSize(nominalBatch, budget / bytesPerSample));
      for (const part of batchParts(batch, partSize)) {
        const bytes = await collector.add(part.feeds);
        bytesPerSample ??= bytes / part.samples;
      }
      samples += batch.samples;
      lastBatchBytes = 0;
      for (const tensor of batch.feeds.values()) lastBatchBytes += tensor.byteLength;
      options.onProgress?.(Math.min(samples, options.samples), options.samples);
    }
    collector.finish();
  } finally {
    await collector.dispose();
  }
  if (options.dataset !== undefined && !sourceWarned && samples > 0 && samples < options.samples) {
    options.warn?.(`calibration ran on ${samples} samples, fewer than samples=${options.samples}: that is all of ${data.description}`);
  }
  const collection: CalibrationCollection = { ...collector.layout, recollected: collector.recollected };
  const nonFinite = [...statistics].filter(([, s]) => (s instanceof MinMaxStatistics ? s : s.extremes).nonFinite > 0);
  if (nonFinite.length > 0 || nonFiniteInputs.size > 0) {
    const listed = (entries: readonly (readonly [string, number])[]) =>
      entries.slice(0, 5).map(([name, count]) => `'${name}' (${count})`).join(', ') + (entries.length > 5 ? `, … ${entries.length - 5} more` : '');
    const tensors = nonFinite.map(([name, s]) => [name, (s instanceof MinMaxStatistics ? s : s.extremes).nonFinite] as const);
    const inputs = [...nonFiniteInputs];
    options.warn?.(
      (inputs.length > 0 ? `the calibration data holds NaN/Infinity values: input ${listed(inputs)}; ` : '') +
        (tensors.length > 0 ? `calibration skipped NaN/Infinity values in ${tensors.length} tensor(s): ${listed(tensors)}` : 'no calibrated tensor saw them') +
        (inputs.length > 0 ? ' — check the data (the ranges are measured on its finite values only)' : ''),
    );
  }
  return { method: options.method, samples, tensors: statistics, collection };
}

/** NaN and ±Infinity values of a float tensor (0 for other dtypes). */
function nonFiniteValues(tensor: Tensor): number {
  if (tensor.dtype !== 'float32' && tensor.dtype !== 'float64') return 0;
  const values = tensor.data() as Float32Array | Float64Array;
  let count = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) count++;
  return count;
}

/** Each tensor's range from its statistics (`options.method` must be the one they were collected for, or `minmax`). */
export function chooseRanges(statistics: CalibrationStatistics, options: CalibrationOptions): Map<string, TensorRange> {
  checkCalibrationOptions(options);
  const ranges = new Map<string, TensorRange>();
  for (const [name, tensor] of statistics.tensors) {
    try {
      if (tensor instanceof MinMaxStatistics) {
        ranges.set(name, tensor.range(options.method));
      } else {
        ranges.set(name, tensor.range(options.method, {
          percentile: options.percentile,
          symmetric: options.symmetric?.(name) ?? false,
          quantizedBins: options.quantizedBins,
          stdDevs: options.stdDevs,
          minCoverage: options.minCoverage,
        }));
      }
    } catch (error) {
      throw calibrationError({ reason: `cannot choose a range for tensor '${name}': ${(error as Error).message}`, cause: error });
    }
  }
  return ranges;
}

/** Adds `other`'s statistics into `into` (shards of one calibration: exact, see the statistics classes). */
export function mergeStatistics(into: CalibrationStatistics, other: CalibrationStatistics): CalibrationStatistics {
  if (into.method !== other.method) throw calibrationError({ reason: `cannot merge ${other.method} statistics into ${into.method} statistics` });
  const tensors = new Map(into.tensors);
  for (const [name, statistics] of other.tensors) {
    const mine = tensors.get(name);
    if (!mine) tensors.set(name, statistics);
    else if (mine instanceof MinMaxStatistics && statistics instanceof MinMaxStatistics) mine.merge(statistics);
    else if (mine instanceof HistogramStatistics && statistics instanceof HistogramStatistics) mine.merge(statistics);
    else throw calibrationError({ reason: `tensor '${name}' has statistics of two kinds` });
  }
  return { method: into.method, samples: into.samples + other.samples, tensors };
}

export function statisticsToJSON(statistics: CalibrationStatistics): CalibrationStatisticsJSON {
  return { method: statistics.method, samples: statistics.samples, tensors: Object.fromEntries([...statistics.tensors].map(([name, s]) => [name, s.toJSON()])) };
}

export function statisticsFromJSON(json: CalibrationStatisticsJSON): CalibrationStatistics {
  if (!json || typeof json !== 'object' || typeof json.tensors !== 'object' || !Number.isInteger(json.samples)) {
    throw calibrationError({ reason: 'not calibration statistics JSON', expected: '{ method, samples, tensors }' });
  }
  const tensors = new Map<string, TensorStatistics>();
  for (const [name, entry] of Object.entries(json.tensors)) {
    tensors.set(name, entry.kind === 'minmax' ? MinMaxStatistics.fromJSON(entry) : HistogramStatistics.fromJSON(entry));
  }
  return { method: json.method, samples: json.samples, tensors };
}

/** Runs the model in ORT batch by batch, returning each named tensor's chosen range. */
export async function calibrate(model: Model, tensors: readonly string[], options: CalibrationOptions): Promise<Map<string, TensorRange>> {
  return chooseRanges(await collectStatistics(model, tensors, options), options);
}
