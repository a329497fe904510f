/**
 * `eval-shard`: top-1 counts of a model on samples [start, end) of a labelled dataset (reading only
 * that range of the files, `readDatasetRange`), in batches
 * that start where a single-process evaluation's batches start (shards are whole batches), so the
 * engine sees the same batches and the merged counts equal the single run's. ORT sessions stay open
 * for the next shard of the same model file (`evaluationEngine`, keyed by path, mtime and size).
 */
import { performance } from 'node:perf_hooks';
import { Tensor, byteLengthOf, elementCount } from '@modelpass/ir';
import { countDatasetReads, defaultEngineFor, evaluateAccuracy, readDatasetRange, type LabelledDataset } from '@modelpass/runtime';
import { distributedError } from '../errors.js';
import type { EvalShardJob, EvalShardResult } from '../job-types.js';
import { evaluationEngine } from '../worker-sessions.js';

/** Samples [start, end) of a dataset loaded up to `end`. */
export function sliceDataset(dataset: LabelledDataset, start: number, end: number): LabelledDataset {
  const stop = Math.min(end, dataset.size);
  const perSample = elementCount(dataset.sampleShape);
  const from = byteLengthOf(dataset.samples.dtype, start * perSample);
  const to = byteLengthOf(dataset.samples.dtype, stop * perSample);
  const samples = Tensor.fromBytes(dataset.samples.dtype, [stop - start, ...dataset.sampleShape], new Uint8Array(dataset.samples.bytes().subarray(from, to)));
  return { samples, labels: dataset.labels.subarray(start, stop), size: stop - start, sampleShape: dataset.sampleShape };
}

export async function evalShard(job: EvalShardJob): Promise<EvalShardResult> {
  if (!(Number.isInteger(job.start) && Number.isInteger(job.end) && job.start >= 0 && job.end > job.start)) {
    throw distributedError({ reason: `eval-shard job has samples [${job.start}, ${job.end})`, expected: 'integers 0 ≤ start < end' });
  }
  const started = performance.now();
  const { value: dataset, reads } = await countDatasetReads(() => readDatasetRange(job.dataset, { cwd: job.cwd, start: job.start, end: job.end }));
  const loaded = performance.now();
  const result = await evaluateAccuracy(job.model, dataset, {
    datasetName: job.dataset,
    engine: (job.engine ?? defaultEngineFor(job.model)) === 'ort' ? evaluationEngine() : job.engine ?? defaultEngineFor(job.model),
    ...(job.batchSize !== undefined ? { batchSize: job.batchSize } : {}),
    ...(job.normalization ? { normalization: job.normalization } : {}),
    ...(job.layout ? { layout: job.layout } : {}),
    ...(job.sampleShape ? { sampleShape: job.sampleShape } : {}),
    ...(job.inputName ? { inputName: job.inputName } : {}),
    ...(job.outputName ? { outputName: job.outputName } : {}),
  });
  const done = performance.now();
  return {
    correct: result.correct,
    total: result.total,
    perClass: result.perClass.map((c) => ({ total: c.total, correct: c.correct })),
    engine: result.engine,
    phases: { read: (loaded - started) / 1000, compute: (done - loaded) / 1000, write: 0 },
    reads,
  };
}
