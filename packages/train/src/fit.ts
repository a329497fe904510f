/**
 * `fit(model, dataset, options)`: the training loop on a labelled dataset — epochs of seeded shuffled
 * batches, a validation split with loss and accuracy per epoch, early stopping, progress events, and
 * checkpoints written atomically each epoch so an interrupted run resumes and ends bit-identical to an
 * uninterrupted one with the same seed. With a validation split the best epoch's weights (by validation
 * loss or accuracy) are returned, not the last epoch's (`keep: 'last'` for those). The steps run in one
 * `Trainer` (ORT session, optimizer in the graph).
 */
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { ModelpassError, type Model } from '@modelpass/ir';
import type { LabelledDataset } from '@modelpass/runtime';
import { BestEpoch, type KeptWeights, type ValidationMonitor } from './best-epoch.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { BatchMaker, epochOrders, splitValidation } from './epoch-order.js';
import { Evaluator, scoreLogits } from './evaluator.js';
import type { OptimizerSpec } from './optimizers/index.js';
import { checkSchedule, learningRateAt, type ScheduleSpec } from './schedules.js';
import { Trainer } from './trainer.js';

export interface FitOptions {
  readonly epochs: number;
  readonly batchSize: number;
  /** Base learning rate. */
  readonly lr: number;
  /** Default SGD with momentum 0.9. */
  readonly optimizer?: OptimizerSpec;
  readonly schedule?: ScheduleSpec;
  /** Seed of the split, the shuffles and the dropout masks (default 0). */
  readonly seed?: number;
  /** Fraction of the samples held out for validation (default 0). */
  readonly validation?: number;
  /** Stop after this many epochs without a better validation metric (default 0: never). Needs `validation`. */
  readonly patience?: number;
  /** The validation metric that picks the best epoch and drives `patience`: `loss` (default, lower is better) or `accuracy`. */
  readonly monitor?: ValidationMonitor;
  /** With a validation split: return the `best` epoch's weights and running statistics (default) or the `last` epoch's. */
  readonly keep?: KeptWeights;
  /** Folder of the checkpoint written after each epoch. */
  readonly checkpoint?: string;
  /** Continue from the checkpoint in `checkpoint` when there is one (default true). */
  readonly resume?: boolean;
  /** The model input fed with samples (default the first non-initializer input). */
  readonly input?: string;
  readonly batchNormalization?: 'running-statistics' | 'batch-statistics';
  /** Dropout during training: `train` (default) or `inference`. */
  readonly dropout?: 'inference' | 'train';
  /** ORT intra-op threads. */
  readonly threads?: number;
  /** Progress: called every `progressEvery` steps (default 50) and after each epoch. */
  readonly onProgress?: (event: FitProgress) => void;
  readonly progressEvery?: number;
  /** Stops the run after the current step (the last checkpoint stays; the call rejects). */
  readonly signal?: AbortSignal;
}

export interface EpochRecord {
  readonly epoch: number;
  /** Steps taken so far (all epochs). */
  readonly step: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly validationLoss?: number;
  readonly validationAccuracy?: number;
  readonly seconds: number;
  readonly samplesPerSecond: number;
}

export type FitProgress =
  | { readonly kind: 'step'; readonly epoch: number; readonly epochs: number; readonly step: number; readonly stepsPerEpoch: number; readonly loss: number; readonly accuracy: number; readonly samplesPerSecond: number; readonly lr: number }
  | { readonly kind: 'epoch'; readonly epochs: number; readonly record: EpochRecord }
  | { readonly kind: 'resumed'; readonly epoch: number; readonly step: number; readonly file: string }
  | { readonly kind: 'early-stop'; readonly epoch: number; readonly bestEpoch: number; readonly monitor: ValidationMonitor }
  | { readonly kind: 'kept-best'; readonly epoch: number; readonly lastEpoch: number; readonly monitor: ValidationMonitor; readonly value: number };

export interface FitResult {
  readonly model: Model;
  readonly history: readonly EpochRecord[];
  readonly steps: number;
  readonly stoppedEarly: boolean;
  /** Epochs that were already done in the checkpoint this run resumed from (0 when it started fresh). */
  readonly resumedEpochs: number;
  /** The epoch with the best validation metric (undefined without a validation split). */
  readonly bestEpoch?: number;
  /** The epoch whose weights `model` holds: the best one, or the last one with `keep: 'last'` or no validation split. */
  readonly keptEpoch: number;
}

interface LoopState {
  history: EpochRecord[];
  stoppedEarly: boolean;
}

function fitError(reason: string, expected?: string): ModelpassError {
  return new ModelpassError({ reason, ...(expected ? { expected } : {}), source: '@modelpass/train' });
}

/** `checkpoint=` names a folder: an existing file there is refused before any step. */
/**
 * The checkpoint folder must be usable before the first step: a file in its place, or a folder that
 * cannot be created or written, would otherwise fail only when the first epoch's checkpoint is written.
 */
function prepareCheckpointFolder(folder: string): void {
  if (existsSync(folder) && !statSync(folder).isDirectory()) {
    throw new ModelpassError({ reason: `checkpoint '${folder}' is a file`, location: { file: folder }, expected: 'a folder (created if missing) for the checkpoint', source: '@modelpass/train' });
  }
  try {
    mkdirSync(folder, { recursive: true });
    accessSync(folder, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'read-only file system' : (error as Error).message;
    throw new ModelpassError({
      reason: `checkpoint folder '${folder}' cannot be created or written: ${why}${code ? ` (${code})` : ''}`,
      location: { file: folder },
      expected: 'a writable folder for checkpoint= (checked before training starts)',
      source: '@modelpass/train',
    });
  }
}

/** What an interrupted run can resume from: the checkpoint of the last finished epoch, if any. */
function resumeHint(checkpoint: string | undefined, epoch: number): string {
  if (!checkpoint) return '; without checkpoint=FOLDER a rerun starts over';
  if (epoch === 0) return `; no checkpoint was written yet (one is written to '${checkpoint}' after each epoch), so a rerun starts over`;
  return `; rerun the same command to resume from the checkpoint in '${checkpoint}' (after epoch ${epoch})`;
}

/** The settings that differ between a checkpoint's fingerprint and this run's, as `key: saved → now`. */
function settingsChanges(saved: Readonly<Record<string, unknown>>, now: Readonly<Record<string, unknown>>): string {
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(now)])];
  const changed = keys.filter((key) => JSON.stringify(saved[key]) !== JSON.stringify(now[key]));
  return changed.map((key) => `${key}: ${JSON.stringify(saved[key]) ?? '(none)'} → ${JSON.stringify(now[key]) ?? '(none)'}`).join(', ') || 'the same keys in another order';
}

function modelInput(model: Model, name: string | undefined, batchSize: number): { name: string; sampleShape: number[] } {
  const input = name ? model.graph.inputs.find((v) => v.name === name) : model.graph.inputs.find((v) => !v.isConstant);
  if (!input) throw fitError(name ? `the model has no input '${name}'` : 'the model has no input to feed');
  const type = input.type;
  if (type.kind !== 'tensor' || type.shape === null || !type.shape.slice(1).every((d) => typeof d === 'number')) {
    throw fitError(`training needs static dims after the batch axis of input '${input.name}'`);
  }
  // ORT refused the first step with "Got invalid dimensions for input" (QA s12: a [1,3,16,16] model, batch=8).
  const fixedBatch = type.shape[0];
  if (typeof fixedBatch === 'number' && fixedBatch > 0 && fixedBatch !== batchSize) {
    throw fitError(
      `batch size ${batchSize} (train's batch=, fit's batchSize) cannot feed input '${input.name}', which takes a fixed batch of ${fixedBatch} (its first dimension)`,
      `batch=${fixedBatch}, or a model exported with a dynamic batch dimension (torch.onnx.export(…, dynamic_axes={'${input.name}': {0: 'batch'}}))`,
    );
  }
  return { name: input.name, sampleShape: type.shape.slice(1) as number[] };
}

function checkFitOptions(options: FitOptions): void {
  const integer = (name: string, value: number | undefined, min: number) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= min)) throw fitError(`fit option '${name}' is ${value}`, `an integer ≥ ${min}`);
  };
  integer('epochs', options.epochs, 1);
  integer('batchSize', options.batchSize, 1);
  integer('patience', options.patience, 0);
  integer('progressEvery', options.progressEvery, 1);
  if (!(Number.isFinite(options.lr) && options.lr > 0)) throw fitError(`fit option 'lr' is ${options.lr}`, 'a positive number');
  const validation = options.validation ?? 0;
  if (!(validation >= 0 && validation < 1)) throw fitError(`fit option 'validation' is ${validation}`, 'a fraction in [0, 1)');
  if ((options.patience ?? 0) > 0 && validation === 0) throw fitError('fit option \'patience\' needs a validation split', 'validation > 0 (e.g. 0.1)');
  if (options.monitor !== undefined && validation === 0) throw fitError('fit option \'monitor\' needs a validation split (it picks the best epoch by a validation metric)', 'validation > 0 (e.g. 0.1), or no monitor');
  if (options.keep !== undefined && validation === 0) throw fitError('fit option \'keep\' needs a validation split (without one the last epoch\'s weights are kept)', 'validation > 0 (e.g. 0.1), or no keep');
  if (options.schedule) checkSchedule(options.schedule);
  if (options.monitor !== undefined && options.monitor !== 'loss' && options.monitor !== 'accuracy') throw fitError(`fit option 'monitor' is '${String(options.monitor)}'`, "'loss' or 'accuracy'");
  if (options.keep !== undefined && options.keep !== 'best' && options.keep !== 'last') throw fitError(`fit option 'keep' is '${String(options.keep)}'`, "'best' or 'last'");
}

export async function fit(model: Model, dataset: LabelledDataset, options: FitOptions): Promise<FitResult> {
  checkFitOptions(options);
  const seed = options.seed ?? 0;
  const optimizer = options.optimizer ?? { kind: 'sgd', momentum: 0.9 };
  const schedule = options.schedule ?? { kind: 'constant' };
  const input = modelInput(model, options.input, options.batchSize);
  const maker = new BatchMaker(dataset, input.name, input.sampleShape);
  const split = splitValidation(dataset.size, options.validation ?? 0, seed);
  const stepsPerEpoch = Math.floor(split.train.length / options.batchSize);
  if (stepsPerEpoch === 0) throw fitError(`the training split has ${split.train.length} samples, fewer than one batch of ${options.batchSize}`);
  const totalSteps = stepsPerEpoch * options.epochs;
  const fingerprint = {
    seed, batchSize: options.batchSize, lr: options.lr, optimizer, schedule, epochs: options.epochs, validation: options.validation ?? 0,
    samples: dataset.size, batchNormalization: options.batchNormalization ?? 'running-statistics', dropout: options.dropout ?? 'train',
    monitor: options.monitor ?? 'loss', keep: options.keep ?? 'best',
  };

  if (options.checkpoint !== undefined && options.checkpoint !== '') prepareCheckpointFolder(options.checkpoint);
  const trainer = await Trainer.create(model, {
    loss: { kind: 'cross-entropy' }, optimizer, dropout: options.dropout ?? 'train', seed,
    ...(options.batchNormalization ? { batchNormalization: options.batchNormalization } : {}), ...(options.threads ? { threads: options.threads } : {}),
  });
  let evaluator: Evaluator | undefined;
  try {
    evaluator = split.validation.length ? await Evaluator.create(model, trainer, input.name, options.threads) : undefined;
    const state: LoopState = { history: [], stoppedEarly: false };
    const best = new BestEpoch(options.monitor ?? 'loss', split.validation.length ? options.keep ?? 'best' : 'last');
    let firstEpoch = 0;
    if (options.checkpoint && (options.resume ?? true)) {
      const saved = readCheckpoint(options.checkpoint);
      if (saved) {
        if (JSON.stringify(saved.fingerprint) !== JSON.stringify(fingerprint)) {
          throw fitError(`the checkpoint in '${options.checkpoint}' was written with other settings: ${settingsChanges(saved.fingerprint, fingerprint)}`, 'the same settings to resume (or resume=false / another folder)');
        }
        trainer.restore({ step: saved.step, tensors: saved.tensors });
        state.history = (saved.loop.history as EpochRecord[] | undefined) ?? [];
        state.stoppedEarly = saved.loop.stoppedEarly === true;
        best.restore(saved.loop, saved.epoch, saved.tensors, [...trainer.weights().keys()], options.checkpoint);
        firstEpoch = saved.epoch;
        options.onProgress?.({ kind: 'resumed', epoch: saved.epoch, step: saved.step, file: options.checkpoint });
      }
    }
    const resumedEpochs = firstEpoch;
    const orderOf = epochOrders(split.train, seed);
    const every = options.progressEvery ?? 50;
    for (let epoch = firstEpoch; epoch < options.epochs && !state.stoppedEarly; epoch++) {
      const order = orderOf(epoch);
      const started = performance.now();
      let lossSum = 0;
      let correct = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        if (options.signal?.aborted) throw fitError(`training interrupted at step ${trainer.step} (epoch ${epoch + 1})${resumeHint(options.checkpoint, epoch)}`);
        const batch = maker.batch(order, s * options.batchSize, options.batchSize);
        const lr = learningRateAt(schedule, options.lr, trainer.step, totalSteps);
        const result = await trainer.run(batch, lr, { prediction: true });
        lossSum += result.loss;
        const logits = result.prediction!;
        correct += scoreLogits(logits.data() as Float32Array, batch.lossInputs.labels!.data() as BigInt64Array, logits.shape.at(-1)!).correct;
        if (options.onProgress && ((s + 1) % every === 0 || s + 1 === stepsPerEpoch)) {
          const seconds = (performance.now() - started) / 1000;
          options.onProgress({ kind: 'step', epoch: epoch + 1, epochs: options.epochs, step: s + 1, stepsPerEpoch, loss: lossSum / (s + 1), accuracy: correct / ((s + 1) * options.batchSize), samplesPerSecond: ((s + 1) * options.batchSize) / seconds, lr });
        }
      }
      const seconds = (performance.now() - started) / 1000;
      const validation = evaluator ? await evaluator.evaluate(trainer, maker, split.validation, Math.max(options.batchSize, 256)) : undefined;
      const record: EpochRecord = {
        epoch: epoch + 1, step: trainer.step, loss: lossSum / stepsPerEpoch, accuracy: correct / (stepsPerEpoch * options.batchSize),
        ...(validation ? { validationLoss: validation.loss, validationAccuracy: validation.accuracy } : {}),
        seconds, samplesPerSecond: (stepsPerEpoch * options.batchSize) / seconds,
      };
      state.history.push(record);
      options.onProgress?.({ kind: 'epoch', epochs: options.epochs, record });
      if (validation) best.update(epoch + 1, validation, () => trainer.weights());
      if ((options.patience ?? 0) > 0 && epoch + 1 - best.bestEpoch >= options.patience!) {
        state.stoppedEarly = true;
        options.onProgress?.({ kind: 'early-stop', epoch: epoch + 1, bestEpoch: best.bestEpoch, monitor: best.monitor });
      }
      if (options.checkpoint) {
        const saved = trainer.state();
        const tensors = new Map([...saved.tensors, ...best.checkpointTensors(epoch + 1)]);
        writeCheckpoint(options.checkpoint, { step: saved.step, epoch: epoch + 1, fingerprint, loop: { ...state, ...best.record() }, tensors });
      }
    }
    const lastEpoch = state.history.at(-1)?.epoch ?? firstEpoch;
    const kept = best.keptWeights(lastEpoch);
    if (kept) options.onProgress?.({ kind: 'kept-best', epoch: best.bestEpoch, lastEpoch, monitor: best.monitor, value: best.bestValue! });
    return {
      model: trainer.trainedModel(kept), history: state.history, steps: trainer.step, stoppedEarly: state.stoppedEarly, resumedEpochs,
      ...(split.validation.length ? { bestEpoch: best.bestEpoch } : {}), keptEpoch: kept ? best.bestEpoch : lastEpoch,
    };
  } finally {
    await evaluator?.dispose();
    await trainer.dispose();
  }
}
