/**
 * `train{dataset=… epochs=… lr=… optimizer=sgd|adamw schedule=… validation=… patience=… checkpoint=…}`:
 * fine-tunes the model's trainable initializers on hard labels (cross-entropy) with `fit` — the
 * optimizer inside the training graph in one ONNX Runtime session, seeded shuffles, a validation split
 * with early stopping, progress on stderr, checkpoints each epoch and resume — in place.
 */
import { ModelpassError } from '@modelpass/ir';
import { definePass, option } from '@modelpass/pass-manager';
import { loadDataset } from '@modelpass/runtime';
import { fit } from './fit.js';
import { upgradeForAutodiff } from './old-opset.js';
import type { OptimizerSpec } from './optimizers/index.js';
import { formatFitProgress } from './progress.js';
import type { ScheduleSpec } from './schedules.js';
import { lostSparsityWarning, zeroFractions } from './sparsity-guard.js';
import { adoptTrainedWeights, currentTrainingRunner } from './training-runner.js';

export const trainPass = definePass({
  name: 'train',
  summary: 'Fine-tune the weights on a labelled dataset (cross-entropy; SGD or AdamW in the training graph, run in ONNX Runtime)',
  options: {
    dataset: option.string({ default: '', files: 'read', help: 'labelled training data, e.g. fashion-mnist:train, npy:DIR or "idx:IMAGES,LABELS" (quoted: it holds a comma)' }),
    epochs: option.integer({ default: 1, min: 1, help: 'passes over the training split' }),
    optimizer: option.enum(['sgd', 'adamw'], { default: 'sgd', help: 'SGD (momentum, L2 weight decay) or AdamW (decoupled weight decay), PyTorch\'s formulas' }),
    lr: option.number({ default: 0.01, min: 0, help: 'learning rate (the peak, with a schedule)' }),
    momentum: option.number({ default: 0.9, min: 0, max: 0.999, help: 'SGD momentum' }),
    weightDecay: option.number({ min: 0, help: 'weight decay (default: 0 for sgd, 0.01 for adamw)' }),
    schedule: option.enum(['constant', 'step', 'cosine', 'linear'], { default: 'constant', help: 'learning-rate schedule over all steps' }),
    warmup: option.integer({ default: 0, min: 0, help: 'linear warm-up steps before the schedule' }),
    stepSize: option.integer({ default: 0, min: 0, help: 'schedule=step: steps between decays (0: one epoch)' }),
    gamma: option.number({ default: 0.1, min: 0, max: 1, help: 'schedule=step: decay factor' }),
    batch: option.integer({ default: 64, min: 1, help: 'batch size' }),
    samples: option.integer({ default: 0, min: 0, help: 'use the first N samples only (0: all)' }),
    validation: option.number({ default: 0, min: 0, max: 0.99, help: 'fraction held out for validation loss/accuracy per epoch' }),
    patience: option.integer({ default: 0, min: 0, help: 'stop after N epochs without a better validation metric (0: off; needs validation)' }),
    // monitor and keep have no default value (undefined: loss, best) so that using them without validation= is detectable
    monitor: option.enum(['loss', 'accuracy'], { help: 'with validation: the metric that picks the best epoch and drives patience (default: loss)' }),
    keep: option.enum(['best', 'last'], { help: "with validation: write the best epoch's weights (by monitor) or the last epoch's (default: best)" }),
    checkpoint: option.string({ default: '', files: 'write', help: 'folder for a checkpoint written each epoch (weights, optimizer state, step)' }),
    resume: option.boolean({ default: true, help: 'continue from the checkpoint in checkpoint= when there is one' }),
    seed: option.integer({ default: 0, min: 0, help: 'seed of the validation split, the shuffles and the dropout masks' }),
    batchNorm: option.enum(['running-statistics', 'batch-statistics'], { default: 'batch-statistics', help: 'BatchNormalization during training: batch statistics (training mode, running statistics updated) or the running ones' }),
    dropout: option.enum(['train', 'inference'], { default: 'train', help: 'Dropout during training: seeded masks (train) or the identity' }),
    progress: option.enum(['auto', 'on', 'off'], { default: 'auto', help: 'progress lines on stderr (auto: when stderr is a terminal)' }),
    threads: option.integer({ default: 0, min: 0, help: 'ONNX Runtime threads (0: one per core)' }),
  },
  statistics: ['steps', 'weights-trained', 'epochs-run', 'kept-epoch'],
  async run(model, context) {
    const o = context.options;
    if (!o.dataset) throw new ModelpassError({ reason: "train needs dataset=… (e.g. 'fashion-mnist:train')", source: '@modelpass/train' });
    if (!(o.lr > 0)) throw new ModelpassError({ reason: `train option lr is ${o.lr}`, expected: 'a positive number', source: '@modelpass/train' });
    refuseValidationOptionsWithoutSplit(o);
    upgradeForAutodiff(model, context); // an opset-11 torch export is upgraded to 13, as quantize does, with its warning
    const zerosBefore = zeroFractions(model);
    const warnIfDensified = (): void => {
      const warning = lostSparsityWarning('train', zerosBefore, model);
      if (warning) context.report({ severity: 'warning', reason: warning });
    };
    const runner = currentTrainingRunner();
    if (runner) {
      const ran = await runner(model, { pass: 'train', options: o });
      context.statistic('steps', ran.steps);
      context.statistic('weights-trained', adoptTrainedWeights(model, ran.model));
      warnIfDensified();
      context.statistic('epochs-run', ran.epochsRun);
      context.statistic('kept-epoch', ran.epochsRun);
      return context.preserve(['shapes']);
    }
    const dataset = loadDataset(o.dataset, o.samples > 0 ? { limit: o.samples } : {});
    const optimizer: OptimizerSpec = o.optimizer === 'adamw'
      ? { kind: 'adamw', ...(o.weightDecay !== undefined ? { weightDecay: o.weightDecay } : {}) }
      : { kind: 'sgd', momentum: o.momentum, weightDecay: o.weightDecay ?? 0 };
    const stepsPerEpoch = Math.max(1, Math.floor((dataset.size - Math.floor(dataset.size * o.validation)) / o.batch));
    const schedule: ScheduleSpec = o.schedule === 'step'
      ? { kind: 'step', stepSize: o.stepSize || stepsPerEpoch, gamma: o.gamma, warmup: o.warmup }
      : { kind: o.schedule, warmup: o.warmup };
    const showProgress = o.progress === 'on' || (o.progress === 'auto' && process.stderr.isTTY === true);
    const result = await fit(model, dataset, {
      epochs: o.epochs, batchSize: o.batch, lr: o.lr, optimizer, schedule, seed: o.seed, validation: o.validation, patience: o.patience,
      ...(o.monitor ? { monitor: o.monitor } : {}), ...(o.keep ? { keep: o.keep } : {}),
      batchNormalization: o.batchNorm, dropout: o.dropout, resume: o.resume, signal: context.signal,
      ...(o.checkpoint ? { checkpoint: o.checkpoint } : {}), ...(o.threads > 0 ? { threads: o.threads } : {}),
      onProgress: (event) => {
        const line = formatFitProgress(event);
        if (showProgress) process.stderr.write(`${line}\n`);
        else if (event.kind !== 'step') context.debug(line);
      },
    });
    let trained = 0;
    for (const value of model.graph.constants) {
      const updated = result.model.graph.getValue(value.name)?.constant;
      if (updated && value.constant && !updated.equals(value.constant)) { value.setConstant(updated); trained++; }
    }
    context.statistic('steps', result.steps);
    context.statistic('weights-trained', trained);
    context.statistic('epochs-run', result.history.length);
    context.statistic('kept-epoch', result.keptEpoch);
    warnIfDensified();
    return context.preserve(['shapes']);
  },
});

/** patience=, monitor= and keep= act on the validation split: without validation= they would do nothing, so they are refused. */
function refuseValidationOptionsWithoutSplit(o: { validation: number; patience: number; monitor?: string | undefined; keep?: string | undefined }): void {
  if (o.validation > 0) return;
  const used = [o.patience > 0 ? `patience=${o.patience}` : '', o.monitor ? `monitor=${o.monitor}` : '', o.keep ? `keep=${o.keep}` : ''].filter(Boolean);
  if (used.length === 0) return;
  throw new ModelpassError({
    reason: `train option${used.length > 1 ? 's' : ''} ${used.join(', ')} act${used.length > 1 ? '' : 's'} on the validation split, and there is none (validation=0)`,
    expected: 'validation=FRACTION (e.g. validation=0.1) with them, or none of them',
    source: '@modelpass/train',
  });
}

export const trainPasses = [trainPass];
