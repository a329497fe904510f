/**
 * Seeded sample order for the training loop: a validation split drawn once from the seed, and one
 * shuffle of the training indices per epoch from a second stream of the same seed. The order of epoch
 * e depends only on (seed, e), so a resumed run replays the earlier shuffles and sees the same batches.
 */
import { ModelpassError, Tensor } from '@modelpass/ir';
import type { LabelledDataset } from '@modelpass/runtime';
import type { TrainBatch } from './train-steps.js';

/** mulberry32: a small seeded generator of floats in [0, 1). */
export function seededGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates with `random`. */
export function shuffleInPlace(order: Int32Array | number[], random: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
}

export interface SplitIndices {
  readonly train: Int32Array;
  readonly validation: Int32Array;
}

/** A seeded random `fraction` of the samples for validation, the rest (in index order) for training. */
export function splitValidation(size: number, fraction: number, seed: number): SplitIndices {
  if (!(fraction >= 0 && fraction < 1)) throw new ModelpassError({ reason: `validation fraction ${fraction}`, expected: 'a number in [0, 1)', source: '@modelpass/train' });
  const order = Int32Array.from({ length: size }, (_, i) => i);
  const count = Math.floor(size * fraction);
  if (count === 0) return { train: order, validation: new Int32Array(0) };
  shuffleInPlace(order, seededGenerator(seed ^ 0x5bd1e995));
  return { train: order.slice(count).sort(), validation: order.slice(0, count).sort() };
}

/** The training order of every epoch: `epochOrders(train, seed)(e)` (epochs asked in increasing order). */
export function epochOrders(train: Int32Array, seed: number): (epoch: number) => Int32Array {
  const random = seededGenerator(seed);
  const order = Int32Array.from(train);
  let done = -1;
  return (epoch) => {
    if (epoch <= done) throw new ModelpassError({ reason: `epoch ${epoch} asked after epoch ${done}`, source: '@modelpass/train' });
    while (done < epoch) {
      shuffleInPlace(order, random);
      done++;
    }
    return order;
  };
}

/** Builds batches from a dataset's samples (uint8 scaled by 1/255, other dtypes as they are). */
export class BatchMaker {
  private readonly values: ArrayLike<number>;
  private readonly scale: number;
  readonly sampleSize: number;

  constructor(
    private readonly dataset: LabelledDataset,
    private readonly input: string,
    private readonly sampleShape: readonly number[],
    private readonly labels = 'labels',
  ) {
    this.sampleSize = sampleShape.reduce((a, b) => a * b, 1);
    const datasetSampleSize = dataset.sampleShape.reduce((a, b) => a * b, 1);
    if (this.sampleSize !== datasetSampleSize) {
      throw new ModelpassError({ reason: `the dataset's samples have ${datasetSampleSize} values ([${dataset.sampleShape.join(',')}]), the model input '${input}' takes ${this.sampleSize} ([${sampleShape.join(',')}])`, source: '@modelpass/train' });
    }
    this.scale = dataset.samples.dtype === 'uint8' ? 1 / 255 : 1;
    this.values = dataset.samples.data() as ArrayLike<number>;
  }

  /** The batch of samples `order[start .. start + count)`. */
  batch(order: Int32Array, start: number, count: number): TrainBatch {
    const size = this.sampleSize;
    const data = new Float32Array(count * size);
    const labels = new BigInt64Array(count);
    for (let b = 0; b < count; b++) {
      const index = order[start + b]!;
      const offset = index * size;
      for (let k = 0; k < size; k++) data[b * size + k] = this.values[offset + k]! * this.scale;
      labels[b] = BigInt(this.dataset.labels[index]!);
    }
    // fromBytes wraps the buffers (fromValues would encode element by element: ~50 ms for a batch of 128 images)
    return {
      inputs: { [this.input]: Tensor.fromBytes('float32', [count, ...this.sampleShape], new Uint8Array(data.buffer)) },
      lossInputs: { [this.labels]: Tensor.fromBytes('int64', [count], new Uint8Array(labels.buffer)) },
    };
  }
}
