/**
 * `train{dataset=… epochs=… lr=… momentum=… batch=… seed=… samples=… batch-norm=…}`: fine-tunes the
 * model's trainable initializers on hard labels (cross-entropy) with `trainSteps` (SGD with momentum,
 * ONNX Runtime), in place. Partial epochs are dropped; the shuffle is seeded, so a run is repeatable.
 */
import { ModelpassError } from '@modelpass/ir';
import { definePass, option } from '@modelpass/pass-manager';
import { loadDataset } from '@modelpass/runtime';
import { shuffledBatches } from './shuffled-batches.js';
import { trainSteps } from './train-steps.js';

export const trainPass = definePass({
  name: 'train',
  summary: 'Fine-tune the weights on a labelled dataset (cross-entropy, SGD with momentum, run in ONNX Runtime)',
  options: {
    dataset: option.string({ default: '', help: 'labelled training data, e.g. fashion-mnist:train or idx:IMAGES,LABELS' }),
    epochs: option.integer({ default: 1, min: 1, help: 'passes over the (sampled) dataset' }),
    lr: option.number({ default: 0.01, min: 0, help: 'learning rate' }),
    momentum: option.number({ default: 0.9, min: 0, max: 0.999, help: 'SGD momentum' }),
    weightDecay: option.number({ default: 0, min: 0, help: 'L2 weight decay' }),
    batch: option.integer({ default: 64, min: 1, help: 'batch size' }),
    samples: option.integer({ default: 0, min: 0, help: 'train on the first N samples only (0: all)' }),
    seed: option.integer({ default: 0, min: 0, help: 'shuffle seed' }),
    batchNorm: option.enum(['running-statistics', 'batch-statistics'], { default: 'batch-statistics', help: 'BatchNormalization during training: batch statistics (training mode, running statistics updated) or the running ones' }),
  },
  statistics: ['steps', 'weights-trained'],
  async run(model, context) {
    const o = context.options;
    if (!o.dataset) throw new ModelpassError({ reason: "train needs dataset=… (e.g. 'fashion-mnist:train')", source: '@modelpass/train' });
    if (!(o.lr > 0)) throw new ModelpassError({ reason: `train option lr is ${o.lr}`, expected: 'a positive number', source: '@modelpass/train' });
    const dataset = loadDataset(o.dataset, o.samples > 0 ? { limit: o.samples } : {});
    const input = model.graph.inputs.find((value) => !value.isConstant);
    const type = input?.type;
    if (!input || type?.kind !== 'tensor' || type.shape === null || !type.shape.slice(1).every((d) => typeof d === 'number')) {
      throw new ModelpassError({ reason: 'train needs a model whose first input has static dims after the batch axis', source: '@modelpass/train' });
    }
    const batches = shuffledBatches(dataset, { batchSize: o.batch, input: input.name, sampleShape: type.shape.slice(1) as number[], seed: o.seed, epochs: o.epochs });
    const result = await trainSteps(model, batches, {
      lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay, batchNormalization: o.batchNorm,
      onStep: (step, loss) => { if (step % 50 === 0) context.debug(`step ${step}: loss ${loss.toFixed(4)}`); },
    });
    let trained = 0;
    for (const value of model.graph.constants) {
      const updated = result.model.graph.getValue(value.name)?.constant;
      if (updated && value.constant && !updated.equals(value.constant)) { value.setConstant(updated); trained++; }
    }
    context.statistic('steps', result.losses.length);
    context.statistic('weights-trained', trained);
    if (result.losses.length) context.debug(`loss: first ${result.losses[0]!.toFixed(4)}, last ${result.losses.at(-1)!.toFixed(4)}`);
    return context.preserve(['shapes']);
  },
});

export const trainPasses = [trainPass];
