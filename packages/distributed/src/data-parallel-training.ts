/**
 * Data-parallel training, synchronous and deterministic: the data is cut into `shards` fixed
 * ranges; each round every shard trains (SGD, `train-round` jobs) from the same checkpoint on its
 * range, and the coordinator averages the trained float weights in shard order (local SGD / model
 * averaging, as in federated averaging with equal shards) into the next checkpoint, written to the
 * shared folder. The same seed gives the same checkpoints on any backend and any number of
 * workers; one shard is plain `trainSteps` on that data. Momentum restarts each round.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Tensor, type Model } from '@modelpass/ir';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { loadDataset } from '@modelpass/runtime';
import type { JobBackend } from './backend.js';
import { distributedError } from './errors.js';
import type { TrainRoundJob } from './job-types.js';
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
  readonly onRound?: (round: RoundRecord) => void;
}

export interface RoundRecord {
  readonly round: number;
  /** Mean training loss of each shard in this round, in shard order. */
  readonly meanLosses: readonly number[];
  readonly checkpoint: string;
  readonly shards: readonly ShardTiming[];
  readonly seconds: number;
}

export interface DataParallelTrainingResult {
  readonly model: Model;
  readonly checkpoint: string;
  readonly rounds: readonly RoundRecord[];
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

export async function trainDataParallel(backend: JobBackend, modelPath: string, options: DataParallelTrainingOptions): Promise<DataParallelTrainingResult> {
  if (!(Number.isInteger(options.rounds) && options.rounds >= 1)) throw distributedError({ reason: `rounds is ${options.rounds}`, expected: 'an integer ≥ 1', code: 'distributed/option' });
  const cwd = resolve(options.cwd ?? process.cwd());
  const size = loadDataset(options.dataset, { cwd, ...(options.samples !== undefined ? { limit: options.samples } : {}) }).size;
  const batchSize = options.batchSize ?? 64;
  const ranges = planShards(size, { shards: options.shards ?? 2, align: batchSize });
  const folder = resolve(cwd, options.checkpointFolder);
  mkdirSync(folder, { recursive: true });
  let checkpoint = join(folder, checkpointName(0));
  let model = readOnnx(resolve(cwd, modelPath));
  writeOnnx(model, checkpoint);
  const rounds: RoundRecord[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const started = performance.now();
    const scratch = join(folder, `.round-${String(round).padStart(3, '0')}`);
    mkdirSync(scratch, { recursive: true });
    try {
      const jobs = ranges.map((range, shard) => ({
        kind: 'train-round' as const,
        data: {
          model: checkpoint, dataset: options.dataset, cwd, ...range, round, shard, seed: options.seed ?? 0,
          epochs: options.epochsPerRound ?? 1, batchSize, lr: options.lr, momentum: options.momentum ?? 0, weightDecay: options.weightDecay ?? 0,
          output: join(scratch, `shard-${shard}.onnx`),
        } satisfies TrainRoundJob,
      }));
      const outcomes = await backend.run(jobs);
      const trained: Model[] = [];
      const shards: ShardTiming[] = [];
      const meanLosses: number[] = [];
      outcomes.forEach((outcome, index) => {
        if (!outcome.ok) throw distributedError({ reason: `training round ${round + 1}, shard ${index + 1}/${ranges.length} (samples ${ranges[index]!.start}–${ranges[index]!.end - 1}) failed on ${backend.description}: ${outcome.error}`, code: 'distributed/job-failed' });
        trained.push(readOnnx(outcome.result.output));
        meanLosses.push(outcome.result.meanLoss);
        shards.push({ ...ranges[index]!, worker: outcome.worker, seconds: outcome.seconds, phases: outcome.result.phases });
      });
      model = readOnnx(checkpoint);
      averageWeights(model, trained);
      checkpoint = join(folder, checkpointName(round + 1));
      writeOnnx(model, checkpoint);
      const record = { round: round + 1, meanLosses, checkpoint, shards, seconds: (performance.now() - started) / 1000 };
      rounds.push(record);
      options.onRound?.(record);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  return { model, checkpoint, rounds };
}
