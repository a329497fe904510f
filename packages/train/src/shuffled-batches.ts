/** Seeded, shuffled mini-batches of a labelled dataset (uint8 samples scaled by 1/255), shaped for a model input. */
import type { LabelledDataset } from '@modelpass/runtime';
import { BatchMaker, epochOrders } from './epoch-order.js';
import type { TrainBatch } from './train-steps.js';

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
  const maker = new BatchMaker(dataset, options.input, options.sampleShape, options.labels);
  const orderOf = epochOrders(Int32Array.from({ length: dataset.size }, (_, i) => i), options.seed);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = orderOf(epoch);
    for (let start = 0; start + options.batchSize <= order.length; start += options.batchSize) yield maker.batch(order, start, options.batchSize);
  }
}
