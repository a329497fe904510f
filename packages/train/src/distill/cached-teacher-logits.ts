/**
 * The teacher's logits computed once for the whole training set, then gathered per batch. The teacher
 * runs in inference mode, so its logits for a sample do not depend on the epoch or on the batch the
 * sample is in: a run of E epochs needs one teacher pass over the data instead of E. The batches are
 * those `shuffledBatches` makes (same seed → same samples in the same order), with `teacher_logits`
 * added. Used when there is no feature matching (features are tensors as large as the activations)
 * and the logits fit in `TEACHER_CACHE_LIMIT_BYTES`; otherwise `withTeacherTargets` runs the teacher
 * on every batch.
 */
import { Tensor } from '@modelpass/ir';
import type { LabelledDataset } from '@modelpass/runtime';
import { BatchMaker, epochOrders } from '../epoch-order.js';
import type { ShuffledBatchesOptions } from '../shuffled-batches.js';
import type { TrainBatch } from '../train-steps.js';
import { withTeacherTargets, type Teacher } from './teacher.js';

/** Largest logits table kept in memory (float32): 256 MiB, e.g. 6.7M samples × 10 classes. */
export const TEACHER_CACHE_LIMIT_BYTES = 256 * 1024 * 1024;
/** Samples per teacher run while filling the table. */
const CHUNK = 256;

export interface TeacherLogitsTable {
  /** Row i: the teacher's logits of dataset sample i. */
  readonly data: Float32Array;
  readonly classes: number;
}

/** Whether a table of `samples × classes` float32 logits is within the limit (`classes` unknown: no). */
export function teacherLogitsFit(samples: number, classes: number | string | null | undefined): classes is number {
  return typeof classes === 'number' && classes > 0 && samples * classes * 4 <= TEACHER_CACHE_LIMIT_BYTES;
}

/** Runs the teacher over the dataset in index order, `CHUNK` samples at a time; undefined when its logits are not float32 `[N, classes]`. */
export async function computeTeacherLogits(
  teacher: Teacher,
  dataset: LabelledDataset,
  options: { readonly input: string; readonly sampleShape: readonly number[]; readonly logitsInput: string; readonly classes: number },
): Promise<TeacherLogitsTable | undefined> {
  const maker = new BatchMaker(dataset, options.input, options.sampleShape);
  const identity = Int32Array.from({ length: dataset.size }, (_, i) => i);
  function* chunks(): Generator<TrainBatch> {
    for (let start = 0; start < dataset.size; start += CHUNK) yield maker.batch(identity, start, Math.min(CHUNK, dataset.size - start));
  }
  const data = new Float32Array(dataset.size * options.classes);
  let row = 0;
  for await (const batch of withTeacherTargets(chunks(), { teacher, studentInput: options.input, logitsInput: options.logitsInput, features: new Map() })) {
    const logits = batch.lossInputs[options.logitsInput]!;
    const count = batch.inputs[options.input]!.shape[0]!;
    if (logits.dtype !== 'float32' || logits.shape.length !== 2 || logits.shape[0] !== count || logits.shape[1] !== options.classes) return undefined;
    data.set(logits.data() as Float32Array, row * options.classes);
    row += count;
  }
  return { data, classes: options.classes };
}

/** `shuffledBatches(dataset, options)` with each batch's rows of `table` as `logitsInput`. */
export function* batchesWithCachedLogits(
  dataset: LabelledDataset,
  table: TeacherLogitsTable,
  options: ShuffledBatchesOptions & { readonly logitsInput: string },
): Generator<TrainBatch> {
  const maker = new BatchMaker(dataset, options.input, options.sampleShape, options.labels);
  const orderOf = epochOrders(Int32Array.from({ length: dataset.size }, (_, i) => i), options.seed);
  const classes = table.classes;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = orderOf(epoch);
    for (let start = 0; start + options.batchSize <= order.length; start += options.batchSize) {
      const batch = maker.batch(order, start, options.batchSize);
      const logits = new Float32Array(options.batchSize * classes);
      for (let b = 0; b < options.batchSize; b++) {
        const index = order[start + b]!;
        logits.set(table.data.subarray(index * classes, (index + 1) * classes), b * classes);
      }
      const teacherLogits = Tensor.fromBytes('float32', [options.batchSize, classes], new Uint8Array(logits.buffer));
      yield { inputs: batch.inputs, lossInputs: { ...batch.lossInputs, [options.logitsInput]: teacherLogits } };
    }
  }
}
