/**
 * Sharded accuracy evaluation: one `eval-shard` job per range of whole batches, merged by adding
 * counts (overall and per class), so the accuracy equals a single-process evaluation's.
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readOnnx } from '@modelpass/onnx';
import { datasetSampleCount, type Normalization, type SampleLayout } from '@modelpass/runtime';
import type { JobBackend } from './backend.js';
import { distributedError } from './errors.js';
import type { EvalShardJob } from './job-types.js';
import type { ShardTiming } from './distributed-calibration.js';
import { planShards } from './shards.js';

export interface DistributedEvalOptions {
  readonly shards?: number;
  /** Samples per run (default 256, as `evaluateAccuracy`); a fixed batch dimension wins. Shards are whole batches. */
  readonly batchSize?: number;
  /** Evaluate only the first `limit` samples. */
  readonly limit?: number;
  readonly cwd?: string;
  readonly normalization?: Normalization;
  readonly layout?: SampleLayout;
  readonly sampleShape?: readonly number[];
  readonly inputName?: string;
  readonly outputName?: string;
  readonly engine?: 'ort' | 'reference';
  readonly onProgress?: (done: number, total: number) => void;
}

export interface DistributedEvalResult {
  readonly accuracy: number;
  readonly correct: number;
  readonly total: number;
  readonly perClass: readonly { readonly total: number; readonly correct: number }[];
  readonly engine: string;
  readonly shards: readonly ShardTiming[];
  /** From submitting the jobs to the last result read back. */
  readonly jobsSeconds: number;
  readonly mergeSeconds: number;
}

/** The model's fixed batch dimension, if its first input has one. */
function fixedBatch(modelPath: string): number | undefined {
  const input = readOnnx(modelPath).graph.inputs.find((i) => i.constant === undefined);
  const first = input?.type.kind === 'tensor' ? input.type.shape?.[0] : undefined;
  return typeof first === 'number' && first > 0 ? first : undefined;
}

export async function evaluateDistributed(backend: JobBackend, modelPath: string, dataset: string, options: DistributedEvalOptions = {}): Promise<DistributedEvalResult> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const model = resolve(cwd, modelPath);
  // Counts the samples (and checks the spec) here, before any job is sent.
  const count = await datasetSampleCount(dataset, cwd);
  const size = options.limit !== undefined ? Math.min(count, options.limit) : count;
  if (size === 0) throw distributedError({ reason: `dataset '${dataset}' holds no samples`, code: 'distributed/empty-dataset' });
  const batch = fixedBatch(model) ?? options.batchSize ?? 256;
  const ranges = planShards(size, { shards: options.shards ?? 4, align: batch });
  const data: Omit<EvalShardJob, 'start' | 'end'> = {
    model,
    dataset,
    cwd,
    batchSize: batch,
    ...(options.normalization ? { normalization: options.normalization } : {}),
    ...(options.layout ? { layout: options.layout } : {}),
    ...(options.sampleShape ? { sampleShape: options.sampleShape } : {}),
    ...(options.inputName ? { inputName: options.inputName } : {}),
    ...(options.outputName ? { outputName: options.outputName } : {}),
    ...(options.engine ? { engine: options.engine } : {}),
  };
  let clock = performance.now();
  let done = 0;
  const outcomes = await backend.run(ranges.map((range) => ({ kind: 'eval-shard' as const, data: { ...data, ...range } })), {
    onSettled: (index, outcome) => {
      if (outcome.ok) options.onProgress?.((done += ranges[index]!.end - ranges[index]!.start), size);
    },
  });
  const jobsSeconds = (performance.now() - clock) / 1000;
  clock = performance.now();
  let correct = 0;
  let total = 0;
  const perClass: { total: number; correct: number }[] = [];
  const shards: ShardTiming[] = [];
  let engine = '';
  outcomes.forEach((outcome, index) => {
    const range = ranges[index]!;
    if (!outcome.ok) throw distributedError({ reason: `evaluation shard ${index + 1}/${ranges.length} (samples ${range.start}–${range.end - 1}) failed on ${backend.description}: ${outcome.error}`, code: 'distributed/job-failed' });
    const result = outcome.result;
    correct += result.correct;
    total += result.total;
    result.perClass.forEach((c, label) => {
      perClass[label] ??= { total: 0, correct: 0 };
      perClass[label]!.total += c.total;
      perClass[label]!.correct += c.correct;
    });
    engine = result.engine;
    shards.push({ ...range, worker: outcome.worker, seconds: outcome.seconds, phases: result.phases, ...(result.reads ? { reads: result.reads } : {}) });
  });
  for (let label = 0; label < perClass.length; label++) perClass[label] ??= { total: 0, correct: 0 };
  return { accuracy: total === 0 ? 0 : correct / total, correct, total, perClass, engine, shards, jobsSeconds, mergeSeconds: (performance.now() - clock) / 1000 };
}
