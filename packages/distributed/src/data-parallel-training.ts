/**
 * Data-parallel training, synchronous and deterministic: the data is cut into `shards` fixed
 * ranges; each round every shard trains (SGD, `train-round` jobs) from the same checkpoint on its
 * range, and the coordinator averages the trained float weights in shard order (local SGD / model
 * averaging, as in federated averaging with equal shards) into the next checkpoint, written to the
 * shared folder. The same seed gives the same checkpoints on any backend and any number of
 * workers; one shard is plain `trainSteps` on that data. Momentum restarts each round.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Tensor, writeFileAtomic, type Model } from '@modelpass/ir';
import { encodeOnnx, readOnnx } from '@modelpass/onnx';
import { datasetSampleCount } from '@modelpass/runtime';
import type { JobBackend } from './backend.js';
import { distributedError } from './errors.js';
import type { DistillationTargets, TrainRoundJob } from './job-types.js';
import type { ShardTiming } from './distributed-calibration.js';
import { planShards } from './shards.js';

export interface DataParallelTrainingOptions {
  /** Labelled training data (`fashion-mnist:train`, `idx:…`, `npy:DIR`). */
  readonly dataset: string;
  readonly cwd?: string;
  /** Use the first N samples (default all). */
  readonly samples?: number;
  /** Data shards, one job each per round (default 2). */
  readonly shards?: number;
  readonly rounds: number;
  /** Passes over its shard each job makes per round (default 1). */
  readonly epochsPerRound?: number;
  readonly batchSize?: number;
  readonly lr: number;
  readonly momentum?: number;
  readonly weightDecay?: number;
  readonly seed?: number;
  /** Shared folder for the checkpoints (`round-000.onnx` is the start) and the shards' trained models. */
  readonly checkpointFolder: string;
  /**
   * Continue from the last `round-NNN.onnx` in `checkpointFolder` when its `run.json` records the
   * same start model, data, shards and settings (default true); the finished run is bit-identical
   * to an uninterrupted one (each round is a function of its checkpoint). A different run there is
   * an error, not overwritten.
   */
  readonly resume?: boolean;
  /** BatchNormalization while training (default `running-statistics`: the running statistics stay; `batch-statistics` updates and averages them). */
  readonly batchNormalization?: 'running-statistics' | 'batch-statistics';
  /** Dropout while training (default `train`: seeded masks). */
  readonly dropout?: 'inference' | 'train';
  /**
   * Distillation: every shard adds the teacher's outputs to its batches, the teacher run on the
   * worker from this path (relative paths resolve against `cwd`). The model is the student as the
   * `distill` pass prepares it (its loss inputs named in `logitsInput` and `features`).
   */
  readonly distillation?: DistillationTargets;
  readonly onRound?: (round: RoundRecord) => void;
}

export interface RoundRecord {
  readonly round: number;
  /** Mean training loss of each shard in this round, in shard order. */
  readonly meanLosses: readonly number[];
  /** Optimizer steps each shard took in this round, in shard order. */
  readonly steps: readonly number[];
  readonly checkpoint: string;
  readonly shards: readonly ShardTiming[];
  readonly seconds: number;
}

export interface DataParallelTrainingResult {
  readonly model: Model;
  readonly checkpoint: string;
  readonly rounds: readonly RoundRecord[];
  /** Rounds taken from an earlier run's checkpoints (0 when it started from the beginning). */
  readonly resumedRounds: number;
}

const RUN_FILE = 'run.json';

/** Writes `model` as ONNX atomically (temporary file, then rename): a killed run leaves whole checkpoints only. */
function writeCheckpointModel(model: Model, file: string): Uint8Array {
  const bytes = encodeOnnx(model);
  writeFileAtomic(file, bytes);
  return bytes;
}

/** SHA-256 of a file, or an error naming it (a distillation run records its teacher's). */
function fileSha256(file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch (cause) {
    throw distributedError({ reason: `cannot read the teacher '${file}': ${cause instanceof Error ? cause.message : String(cause)}`, location: { file }, code: 'distributed/option' });
  }
}

const checkpointName = (round: number) => `round-${String(round).padStart(3, '0')}.onnx`;

/** Each float32 initializer of `base` set to the mean of the same initializer in `trained` (summed in order, in float64). */
export function averageWeights(base: Model, trained: readonly Model[]): number {
  const others = trained.map((model) => new Map(model.graph.constants.map((value) => [value.name, value] as const)));
  let averaged = 0;
  for (const value of base.graph.constants) {
    if (value.constant?.dtype !== 'float32') continue;
    const size = value.constant.size;
    const sum = new Float64Array(size);
    for (const [index, map] of others.entries()) {
      const tensor = map.get(value.name)?.constant;
      if (!tensor || tensor.dtype !== 'float32' || tensor.size !== size) throw distributedError({ reason: `shard ${index + 1}'s trained model has no float32 initializer '${value.name}' of ${size} values` });
      const values = tensor.data() as Float32Array;
      for (let i = 0; i < size; i++) sum[i]! += values[i]!;
    }
    const mean = new Float32Array(size);
    for (let i = 0; i < size; i++) mean[i] = sum[i]! / trained.length;
    value.setConstant(Tensor.fromValues('float32', value.constant.shape, mean));
    averaged++;
  }
  return averaged;
}

/** Trains `modelOrPath` (a file, or a model in memory) data-parallel on `backend`; see the file comment. */
export async function trainDataParallel(backend: JobBackend, modelOrPath: Model | string, options: DataParallelTrainingOptions): Promise<DataParallelTrainingResult> {
  if (!(Number.isInteger(options.rounds) && options.rounds >= 1)) throw distributedError({ reason: `rounds is ${options.rounds}`, expected: 'an integer ≥ 1', code: 'distributed/option' });
  const cwd = resolve(options.cwd ?? process.cwd());
  const count = await datasetSampleCount(options.dataset, cwd);
  const size = options.samples !== undefined ? Math.min(count, options.samples) : count;
  const batchSize = options.batchSize ?? 64;
  const ranges = planShards(size, { shards: options.shards ?? 2, align: batchSize });
  const folder = resolve(cwd, options.checkpointFolder);
  mkdirSync(folder, { recursive: true });
  const start = typeof modelOrPath === 'string' ? readOnnx(resolve(cwd, modelOrPath)) : modelOrPath;
  const startBytes = encodeOnnx(start);
  const distillation = options.distillation ? { ...options.distillation, teacher: resolve(cwd, options.distillation.teacher) } : undefined;
  const extras = {
    ...(options.batchNormalization ? { batchNormalization: options.batchNormalization } : {}),
    ...(options.dropout ? { dropout: options.dropout } : {}),
    ...(distillation ? { distillation } : {}),
  };
  const run = {
    model: createHash('sha256').update(startBytes).digest('hex'),
    dataset: options.dataset, cwd, size, ranges, batchSize, epochsPerRound: options.epochsPerRound ?? 1,
    lr: options.lr, momentum: options.momentum ?? 0, weightDecay: options.weightDecay ?? 0, seed: options.seed ?? 0,
    ...extras,
    ...(distillation ? { teacherSha256: fileSha256(distillation.teacher) } : {}),
  };
  const runFile = join(folder, RUN_FILE);
  let first = 0;
  if (existsSync(runFile)) {
    const previous = readFileSync(runFile, 'utf8');
    if (previous !== JSON.stringify(run)) {
      throw distributedError({ reason: `checkpoint folder '${folder}' holds another training run (its ${RUN_FILE} records a different start model, data, shards or settings)`, location: { file: runFile }, hint: 'use an empty folder, or the same model and options to resume', code: 'distributed/option' });
    }
    if (options.resume ?? true) while (first < options.rounds && existsSync(join(folder, checkpointName(first + 1)))) first++;
  } else {
    writeFileAtomic(runFile, JSON.stringify(run));
  }
  let checkpoint = join(folder, checkpointName(first));
  let model: Model;
  if (first === 0) {
    writeFileAtomic(checkpoint, startBytes);
    model = start;
  } else {
    model = readOnnx(checkpoint);
  }
  const rounds: RoundRecord[] = [];
  for (let round = first; round < options.rounds; round++) {
    const started = performance.now();
    const scratch = join(folder, `.round-${String(round).padStart(3, '0')}`);
    mkdirSync(scratch, { recursive: true });
    try {
      const jobs = ranges.map((range, shard) => ({
        kind: 'train-round' as const,
        data: {
          model: checkpoint, dataset: options.dataset, cwd, ...range, round, shard, seed: options.seed ?? 0,
          epochs: options.epochsPerRound ?? 1, batchSize, lr: options.lr, momentum: options.momentum ?? 0, weightDecay: options.weightDecay ?? 0,
          output: join(scratch, `shard-${shard}.onnx`), ...extras,
        } satisfies TrainRoundJob,
      }));
      const outcomes = await backend.run(jobs);
      const trained: Model[] = [];
      const shards: ShardTiming[] = [];
      const meanLosses: number[] = [];
      const steps: number[] = [];
      outcomes.forEach((outcome, index) => {
        if (!outcome.ok) throw distributedError({ reason: `training round ${round + 1}, shard ${index + 1}/${ranges.length} (samples ${ranges[index]!.start}–${ranges[index]!.end - 1}) failed on ${backend.description}: ${outcome.error}`, code: 'distributed/job-failed' });
        trained.push(readOnnx(outcome.result.output));
        meanLosses.push(outcome.result.meanLoss);
        steps.push(outcome.result.steps);
        shards.push({ ...ranges[index]!, worker: outcome.worker, seconds: outcome.seconds, phases: outcome.result.phases, ...(outcome.result.reads ? { reads: outcome.result.reads } : {}) });
      });
      model = readOnnx(checkpoint);
      averageWeights(model, trained);
      checkpoint = join(folder, checkpointName(round + 1));
      writeCheckpointModel(model, checkpoint);
      const record = { round: round + 1, meanLosses, steps, checkpoint, shards, seconds: (performance.now() - started) / 1000 };
      rounds.push(record);
      options.onRound?.(record);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  return { model, checkpoint, rounds, resumedRounds: first };
}
