/** Seeded, shuffled mini-batches of a labelled dataset (uint8 samples scaled by 1/255), shaped for a model input. */
import { ModelpassError, Tensor } from '@modelpass/ir';
import type { LabelledDataset } from '@modelpass/runtime';
import type { TrainBatch } from './train-steps.js';

/** mulberry32: a small seeded generator for the shuffle order. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ShuffledBatchesOptions {
  readonly batchSize: number;
  /** The model input's name and its shape without the batch axis. */
  readonly input: string;
  readonly sampleShape: readonly number[];
  readonly seed: number;
  readonly epochs: number;
  /** Name of the labels input of the loss (default `labels`). */
  readonly labels?: string;
}

export function* shuffledBatches(dataset: LabelledDataset, options: ShuffledBatchesOptions): Generator<TrainBatch> {
  const sampleSize = options.sampleShape.reduce((a, b) => a * b, 1);
  const datasetSampleSize = dataset.sampleShape.reduce((a, b) => a * b, 1);
  if (sampleSize !== datasetSampleSize) {
    throw new ModelpassError({ reason: `the dataset's samples have ${datasetSampleSize} values ([${dataset.sampleShape.join(',')}]), the model input '${options.input}' takes ${sampleSize} ([${options.sampleShape.join(',')}])`, source: '@modelpass/train' });
  }
  const scale = dataset.samples.dtype === 'uint8' ? 1 / 255 : 1;
  const values = dataset.samples.toNumbers();
  const random = generator(options.seed);
  const order = Array.from({ length: dataset.size }, (_, i) => i);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let start = 0; start + options.batchSize <= order.length; start += options.batchSize) {
      const data = new Float32Array(options.batchSize * sampleSize);
      const labels = new Array<bigint>(options.batchSize);
      for (let b = 0; b < options.batchSize; b++) {
        const index = order[start + b]!;
        for (let k = 0; k < sampleSize; k++) data[b * sampleSize + k] = values[index * sampleSize + k]! * scale;
        labels[b] = BigInt(dataset.labels[index]!);
      }
      yield {
        inputs: { [options.input]: Tensor.fromValues('float32', [options.batchSize, ...options.sampleShape], data) },
        lossInputs: { [options.labels ?? 'labels']: Tensor.fromValues('int64', [options.batchSize], labels) },
      };
    }
  }
}
