/**
 * ORT runs of a calibration batch in parts small enough that the requested activations of one run
 * fit a memory budget: a batch of 64 ImageNet-sized samples can carry gigabytes of activations.
 * The first run of a calibration is one sample, which measures the activation bytes per sample;
 * every later run takes as many samples as the budget holds (at most a batch). Statistics do not
 * depend on how the samples are grouped (min/max and histogram counts are order-free), so the
 * ranges are the same as with whole batches.
 */
import { Tensor, type Model } from '@modelpass/ir';
import { feedableInputs } from '@modelpass/runtime';
import type { CalibrationBatch } from './calibration-data.js';

/** Whether batches of `model` may be split: every input's batch dimension is symbolic. */
export function batchesCanSplit(model: Model): boolean {
  return feedableInputs(model).every((input) => input.type.kind === 'tensor' && input.type.shape !== null && input.type.shape.length > 0 && typeof input.type.shape[0] !== 'number');
}

/** Samples `start` to `end` of a tensor whose first dimension is the batch. */
function sliceSamples(tensor: Tensor, start: number, end: number): Tensor {
  const perSample = tensor.byteLength / tensor.shape[0]!;
  return Tensor.fromBytes(tensor.dtype, [end - start, ...tensor.shape.slice(1)], tensor.bytes().subarray(start * perSample, end * perSample));
}

/**
 * `batch` in consecutive parts, each of at most `partSize()` samples, asked before each part (so
 * the size can follow what earlier parts measured). A batch whose feeds do not all have the batch
 * first is one part.
 */
export function* batchParts(batch: CalibrationBatch, partSize: () => number): Generator<CalibrationBatch> {
  const feeds = [...batch.feeds];
  const splittable = feeds.every(([, t]) => t.dtype !== 'string' && t.rank > 0 && t.shape[0] === batch.samples);
  for (let start = 0; start < batch.samples; ) {
    const end = Math.min(batch.samples, start + Math.max(1, partSize()));
    if (!splittable || (start === 0 && end === batch.samples)) {
      yield batch;
      return;
    }
    yield { feeds: new Map(feeds.map(([name, t]) => [name, sliceSamples(t, start, end)])), samples: end - start };
    start = end;
  }
}

/**
 * The part size for batches of `batchSize` under a limit of `limit` samples per run: the largest
 * divisor of `batchSize` not above `limit`, so every full batch runs in parts of one shape (ONNX
 * Runtime plans memory per input shape; a ragged last part per batch added a shape, and memory).
 */
export function uniformPartSize(batchSize: number, limit: number): number {
  const cap = Math.max(1, Math.min(batchSize, Math.floor(limit)));
  for (let size = cap; size > 1; size--) if (batchSize % size === 0) return size;
  return 1;
}
