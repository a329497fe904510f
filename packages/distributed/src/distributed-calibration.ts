/**
 * Sharded calibration for quantize-static: a `StatisticsCollector` that writes the model being
 * calibrated to the shared folder, sends one `calibrate-shard` job per range of whole batches,
 * and merges the shards' statistics in shard order. Min/max and the power-of-two histograms of
 * quantize merge exactly, so the ranges — and the quantized model's bytes — equal a
 * single-process run's over the same samples.
 *
 *   await withStatisticsCollector(distributedStatisticsCollector({ backend }), () => manager.run(model, pipeline));
 */
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Model } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import {
  CALIBRATION_DEFAULTS,
  CALIBRATION_SOURCES,
  HistogramStatistics,
  MinMaxStatistics,
  checkCalibrationOptions,
  collectStatistics,
  mergeStatistics,
  openCalibrationData,
  statisticsFromJSON,
  type CalibrationOptions,
  type CalibrationStatistics,
  type StatisticsCollector,
} from '@modelpass/quantize';
import { feedableInputs, type DatasetReads } from '@modelpass/runtime';
import { createRunFolder, defaultSharedFolder, type JobBackend } from './backend.js';
import { distributedError } from './errors.js';
import type { CalibrateShardJob, PhaseSeconds, ShardCalibrationOptions } from './job-types.js';
import { planShards, type SampleRange } from './shards.js';

export interface ShardTiming extends SampleRange {
  readonly worker: string;
  /** The job's time on its worker. */
  readonly seconds: number;
  readonly phases: PhaseSeconds;
  /** What the shard read from the dataset files (see `countDatasetReads`). */
  readonly reads?: DatasetReads;
}

/** Where one sharded calibration's time went, for benchmarks and --debug. */
export interface CalibrationRunTiming {
  /** Writing the model copy the workers read. */
  readonly modelWriteSeconds: number;
  readonly shards: readonly ShardTiming[];
  /** From submitting the jobs to the last result read back. */
  readonly jobsSeconds: number;
  readonly mergeSeconds: number;
}

export interface DistributedCalibrationOptions {
  readonly backend: JobBackend;
  /** Shards per calibration run (default 4). */
  readonly shards?: number;
  /** Storage the workers see at the same path (default the system's temp folder). */
  readonly sharedFolder?: string;
  /** Called after each calibration run with its timing. */
  readonly onTiming?: (timing: CalibrationRunTiming) => void;
}

/** The batch size the calibration data comes in: the model's fixed batch, else `batchSize` (default 64). */
function batchAlignment(model: Model, options: CalibrationOptions): number {
  for (const input of feedableInputs(model)) {
    const first = input.type.kind === 'tensor' ? input.type.shape?.[0] : undefined;
    if (typeof first === 'number' && first > 0) return first;
  }
  const batch = options.batchSize ?? CALIBRATION_DEFAULTS.batchSize;
  return options.dataset === undefined ? Math.max(1, Math.min(batch, options.samples)) : batch;
}

function shardOptions(options: CalibrationOptions): ShardCalibrationOptions {
  return {
    method: options.method,
    cwd: resolve(options.cwd ?? process.cwd()),
    ...(options.dataset !== undefined ? { dataset: options.dataset } : {}),
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.bins !== undefined ? { bins: options.bins } : {}),
    ...(options.activationBudget !== undefined ? { activationBudget: options.activationBudget } : {}),
    ...(options.normalization !== undefined ? { normalization: options.normalization } : {}),
    ...(options.layout !== undefined ? { layout: options.layout } : {}),
  };
}

function warnNonFinite(statistics: CalibrationStatistics, warn: ((message: string) => void) | undefined): void {
  const nonFinite = [...statistics.tensors].map(([name, s]) => [name, (s instanceof MinMaxStatistics ? s : (s as HistogramStatistics).extremes).nonFinite] as const).filter(([, n]) => n > 0);
  if (nonFinite.length > 0) warn?.(`calibration skipped NaN/Infinity values in ${nonFinite.map(([name, n]) => `'${name}' (${n})`).join(', ')}`);
}

export function distributedStatisticsCollector(options: DistributedCalibrationOptions): StatisticsCollector {
  return async (model, tensors, calibration) => {
    checkCalibrationOptions(calibration);
    if (calibration.movingAverage !== undefined) {
      calibration.warn?.('calibration with movingAverage depends on batch order and is not sharded: it runs in this process');
      return collectStatistics(model, tensors, calibration);
    }
    if ((calibration.histogramStride ?? CALIBRATION_DEFAULTS.histogramStride) > 1) {
      // Sampled histograms number a tensor's values from the first sample on: a shard starting at sample s would
      // count other values than one process does, so the run would not equal a single-process one.
      calibration.warn?.(`calibration with histogramStride=${calibration.histogramStride} samples values by their place in the whole run and is not sharded: it runs in this process`);
      return collectStatistics(model, tensors, calibration);
    }
    const names = [...new Set(tensors)];
    // Checks the data source (and warns once about random inputs) before any job is sent.
    openCalibrationData(model, calibration);
    const cwd = resolve(calibration.cwd ?? process.cwd());
    const source = CALIBRATION_SOURCES.find((s) => s.matches(calibration.dataset, cwd));
    // A folder's files hold any number of samples each, so its batches have no fixed boundaries: one shard.
    const ranges = planShards(calibration.samples, { shards: source?.name === 'folder' ? 1 : options.shards ?? 4, align: batchAlignment(model, calibration) });
    const folder = createRunFolder(options.sharedFolder ?? defaultSharedFolder());
    try {
      let clock = performance.now();
      const modelPath = join(folder.path, 'model.onnx');
      writeOnnx(model, modelPath);
      const modelWriteSeconds = (performance.now() - clock) / 1000;
      clock = performance.now();
      const shardCalibration = shardOptions(calibration);
      let done = 0;
      const jobs = ranges.map((range) => ({ kind: 'calibrate-shard' as const, data: { model: modelPath, tensors: names, calibration: shardCalibration, ...range } satisfies CalibrateShardJob }));
      const outcomes = await options.backend.run(jobs, {
        onSettled: (index, outcome) => {
          if (outcome.ok) calibration.onProgress?.((done += ranges[index]!.end - ranges[index]!.start), calibration.samples);
        },
      });
      const jobsSeconds = (performance.now() - clock) / 1000;
      clock = performance.now();
      let merged: CalibrationStatistics | undefined;
      const shards: ShardTiming[] = [];
      outcomes.forEach((outcome, index) => {
        const range = ranges[index]!;
        if (!outcome.ok) {
          throw distributedError({ reason: `calibration shard ${index + 1}/${ranges.length} (samples ${range.start}–${range.end - 1}) failed on ${options.backend.description}: ${outcome.error}`, code: 'distributed/job-failed' });
        }
        const statistics = statisticsFromJSON(outcome.result.statistics);
        merged = merged === undefined ? statistics : mergeStatistics(merged, statistics);
        shards.push({ ...range, worker: outcome.worker, seconds: outcome.seconds, phases: outcome.result.phases, ...(outcome.result.reads ? { reads: outcome.result.reads } : {}) });
      });
      const mergeSeconds = (performance.now() - clock) / 1000;
      options.onTiming?.({ modelWriteSeconds, shards, jobsSeconds, mergeSeconds });
      warnNonFinite(merged!, calibration.warn);
      return merged!;
    } finally {
      folder.remove();
    }
  };
}
