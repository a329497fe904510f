/**
 * A `@modelpass/train` training runner that trains the `train` and `distill` passes data-parallel on
 * a backend's workers (`trainDataParallel`): `epochs` rounds, each shard one pass over its fixed
 * range per round, weights averaged in shard order. A distillation round computes the teacher's
 * soft targets (and matched features) on the worker, from the teacher's path. Install it with
 * `withTrainingRunner(runner, body)` (the CLI does for `convert --redis`). What data-parallel rounds
 * cannot mean yet (AdamW, schedules, warm-up, a validation split, early stopping) is an error naming
 * the option, never silently ignored.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { join, resolve } from 'node:path';
import type { DistillationRequest, TrainingRequest, TrainingRunner } from '@modelpass/train';
import type { JobBackend } from './backend.js';
import { defaultSharedFolder } from './backend.js';
import { trainDataParallel, type RoundRecord } from './data-parallel-training.js';
import { distributedError } from './errors.js';

export interface DistributedTrainingOptions {
  readonly backend: JobBackend;
  /** Data shards, one train-round job each per round (default 2). */
  readonly shards?: number;
  /**
   * Where checkpoints go when the pass names no `checkpoint=` folder: a new run folder under it,
   * removed when the run ends (it cannot be resumed without its name).
   */
  readonly sharedFolder?: string;
  /** Relative `dataset`, `teacher` and `checkpoint` paths resolve against this folder (default `process.cwd()`). */
  readonly cwd?: string;
  readonly onRound?: (round: RoundRecord, pass: 'train' | 'distill') => void;
}

/** The options data-parallel rounds cannot honour yet, as `name=value` texts (empty when none). */
export function unsupportedTrainingOptions(request: TrainingRequest | DistillationRequest): string[] {
  const o = request.options;
  const refused: string[] = [];
  if (o.optimizer !== 'sgd') refused.push(`optimizer=${o.optimizer}`);
  if (o.schedule !== 'constant') refused.push(`schedule=${o.schedule}`);
  if (o.warmup > 0) refused.push(`warmup=${o.warmup}`);
  if (request.pass === 'train') {
    if (request.options.validation > 0) refused.push(`validation=${request.options.validation}`);
    if (request.options.patience > 0) refused.push(`patience=${request.options.patience}`);
  }
  return refused;
}

export function distributedTrainingRunner(options: DistributedTrainingOptions): TrainingRunner {
  return async (model, request) => {
    const refused = unsupportedTrainingOptions(request);
    if (refused.length > 0) {
      throw distributedError({
        reason: `${request.pass}{${refused.join(' ')}} is not supported by data-parallel training on workers yet`,
        expected: `optimizer=sgd, schedule=constant, no warmup${request.pass === 'train' ? ', validation or patience' : ''}`,
        hint: 'run without --redis to train in this process',
        code: 'distributed/option',
      });
    }
    const o = request.options;
    const cwd = resolve(options.cwd ?? process.cwd());
    const shared = options.sharedFolder ?? defaultSharedFolder();
    if (o.checkpoint === '') mkdirSync(shared, { recursive: true });
    const scratchFolder = o.checkpoint === '' ? mkdtempSync(join(shared, `${request.pass}-`)) : undefined;
    const checkpointFolder = scratchFolder ?? o.checkpoint;
    const distillation = request.pass === 'distill'
      ? {
        teacher: resolve(cwd, request.options.teacher), temperature: request.options.temperature, alpha: request.options.alpha,
        featureWeight: request.options.featureWeight, logitsInput: request.logitsInput, features: request.features,
      }
      : undefined;
    let result: Awaited<ReturnType<typeof trainDataParallel>>;
    try {
      result = await trainDataParallel(options.backend, model, {
        dataset: o.dataset,
        cwd,
        ...(o.samples > 0 ? { samples: o.samples } : {}),
        shards: options.shards ?? 2,
        rounds: o.epochs,
        batchSize: o.batch,
        lr: o.lr,
        momentum: o.momentum,
        weightDecay: o.weightDecay ?? 0,
        seed: o.seed,
        checkpointFolder,
        resume: o.resume,
        batchNormalization: o.batchNorm === 'batch-statistics' ? 'batch-statistics' : 'running-statistics',
        ...(request.pass === 'train' ? { dropout: request.options.dropout === 'inference' ? 'inference' as const : 'train' as const } : {}),
        ...(distillation ? { distillation } : {}),
        ...(options.onRound ? { onRound: (round: RoundRecord) => options.onRound!(round, request.pass) } : {}),
      });
      // The trained model may still read weights lazily from its checkpoint file: take it into memory before the folder goes.
      if (scratchFolder !== undefined) result = { ...result, model: decodeOnnx(encodeOnnx(result.model)) };
    } finally {
      if (scratchFolder !== undefined) rmSync(scratchFolder, { recursive: true, force: true });
    }
    // Rounds run in parallel shards: the steps of the longest shard per round, as a sequential count.
    const steps = result.rounds.reduce((sum, round) => sum + Math.max(0, ...round.steps), 0);
    return { model: result.model, steps, epochsRun: o.epochs };
  };
}
