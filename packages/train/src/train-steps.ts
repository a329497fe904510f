/**
 * `trainSteps(model, batches, { lr, momentum })`: the step loop over a caller's batches. The training
 * graph (`buildTrainingGraph`: forward, loss, gradients and the optimizer update in ONNX ops) runs in
 * one ONNX Runtime session; weights and optimizer state stay ORT tensors fed back each step. SGD by
 * default (PyTorch's form: v ← μ·v + g + λ·w, w ← w − lr·v), AdamW with `optimizer`, a learning-rate
 * schedule with `schedule` + `totalSteps`. Returns a copy of the model with the trained weights and
 * the loss of every step.
 */
import { ModelpassError, type Model, type Tensor } from '@modelpass/ir';
import type { OrtRunner } from '@modelpass/runtime';
import type { LossSpec } from './losses.js';
import type { OptimizerSpec } from './optimizers/index.js';
import { checkSchedule, learningRateAt, type ScheduleSpec } from './schedules.js';
import { Trainer } from './trainer.js';

export interface TrainBatch {
  /** Feeds of the model's inputs (`input` → float32 batch). */
  readonly inputs: Readonly<Record<string, Tensor>>;
  /** Feeds of the loss's inputs (`labels` → int64 `[N]`, `target`, `teacher_logits`). */
  readonly lossInputs: Readonly<Record<string, Tensor>>;
}

export interface TrainStepsOptions {
  /** The (base) learning rate. */
  readonly lr: number;
  /** SGD momentum μ (default 0: plain SGD); ignored when `optimizer` is given. */
  readonly momentum?: number;
  /** SGD L2 weight decay λ added to the gradient (default 0); ignored when `optimizer` is given. */
  readonly weightDecay?: number;
  /** The optimizer (default `{ kind: 'sgd', momentum, weightDecay }`). */
  readonly optimizer?: OptimizerSpec;
  /** Learning-rate schedule (default constant); `cosine`, `linear` and warm-up need `totalSteps`. */
  readonly schedule?: ScheduleSpec;
  /** Steps the schedule spans. */
  readonly totalSteps?: number;
  /** The loss (default cross-entropy on the first output against `labels`). */
  readonly loss?: LossSpec;
  /** Values to train (default every trainable float initializer). */
  readonly wrt?: readonly string[];
  /** @deprecated Unused: the step loop keeps its own ONNX Runtime session for the whole run. */
  readonly runner?: OrtRunner;
  /** BatchNormalization mode (see `buildGradientGraph`); with `batch-statistics` the running statistics are updated each step. */
  readonly batchNormalization?: 'running-statistics' | 'batch-statistics';
  /** Dropout: `train` (default: seeded masks, PyTorch's inverted dropout) or `inference` (identity). */
  readonly dropout?: 'inference' | 'train';
  /** Seed of the dropout masks (default 0). */
  readonly seed?: number;
  /** ONNX Runtime intra-op threads (default ORT's). */
  readonly threads?: number;
  /** Called after each step with its index and loss. */
  readonly onStep?: (step: number, loss: number) => void;
}

export interface TrainStepsResult {
  /** A copy of the input model with the trained weights. */
  readonly model: Model;
  readonly losses: readonly number[];
}

function optionError(name: string, value: unknown, expected: string): ModelpassError {
  return new ModelpassError({ reason: `trainSteps option '${name}' is ${String(value)}`, expected, source: '@modelpass/train' });
}

/** The optimizer the options ask for; bad options are ModelpassErrors naming them. */
export function resolveOptimizer(options: Pick<TrainStepsOptions, 'lr' | 'momentum' | 'weightDecay' | 'optimizer'>): OptimizerSpec {
  if (!(Number.isFinite(options.lr) && options.lr > 0)) throw optionError('lr', options.lr, 'a positive number');
  if (options.optimizer) return options.optimizer;
  const momentum = options.momentum ?? 0;
  if (!(Number.isFinite(momentum) && momentum >= 0 && momentum < 1)) throw optionError('momentum', options.momentum, 'a number in [0, 1)');
  const decay = options.weightDecay ?? 0;
  if (!(Number.isFinite(decay) && decay >= 0)) throw optionError('weightDecay', options.weightDecay, 'a number ≥ 0');
  return { kind: 'sgd', momentum, weightDecay: decay };
}

export async function trainSteps(model: Model, batches: Iterable<TrainBatch> | AsyncIterable<TrainBatch>, options: TrainStepsOptions): Promise<TrainStepsResult> {
  const optimizer = resolveOptimizer(options);
  const schedule = options.schedule ?? { kind: 'constant' };
  checkSchedule(schedule);
  if (schedule.kind !== 'constant' || (schedule.warmup ?? 0) > 0) {
    if (!(Number.isInteger(options.totalSteps) && options.totalSteps! > 0)) throw optionError('totalSteps', options.totalSteps, `a positive integer (the ${schedule.kind} schedule spans it)`);
  }
  const trainer = await Trainer.create(model, {
    loss: options.loss ?? { kind: 'cross-entropy' }, optimizer, dropout: options.dropout ?? 'train',
    ...(options.wrt ? { wrt: options.wrt } : {}), ...(options.batchNormalization ? { batchNormalization: options.batchNormalization } : {}),
    ...(options.threads ? { threads: options.threads } : {}), ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  const losses: number[] = [];
  try {
    for await (const batch of batches) {
      const lr = learningRateAt(schedule, options.lr, losses.length, options.totalSteps ?? 0);
      const { loss } = await trainer.run(batch, lr);
      losses.push(loss);
      options.onStep?.(losses.length - 1, loss);
    }
    return { model: trainer.trainedModel(), losses };
  } finally {
    await trainer.dispose();
  }
}
