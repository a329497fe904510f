/**
 * Samples [start, end) of a labelled dataset, reading only that range: the samples and the labels
 * files seek to `start` (plain IDX and NumPy files; a gzipped IDX stream decompresses and drops the
 * samples before it) and stop at `end`. What distributed evaluation and training shards read
 * (`loadDataset` with `limit` reads from the first sample). `datasetSampleCount` reads the header only.
 */
import { Tensor, isFloatDType } from '@modelpass/ir';
import { openSamples, type SampleFile } from './dataset-stream.js';
import { runtimeError } from './errors.js';
import type { LabelledDataset } from './idx-dataset.js';

export interface DatasetRangeOptions {
  /** First sample (default 0). */
  readonly start?: number;
  /** One past the last sample (default the dataset's end; clipped to it). */
  readonly end?: number;
  /** Relative paths resolve against this folder (default `process.cwd()`). */
  readonly cwd?: string;
}

/** How many labelled samples the dataset `spec` holds: the samples and labels files' headers (they must agree); nothing else is read. */
export async function datasetSampleCount(spec: string, cwd = process.cwd()): Promise<number> {
  const [samples, labels] = await openBoth(spec, cwd);
  samples.close();
  labels.close();
  return samples.size;
}

/** The samples and labels files of `spec`, open, with as many labels as samples. */
async function openBoth(spec: string, cwd: string): Promise<[SampleFile, SampleFile]> {
  const samples = await openSamples(spec, cwd);
  let labels: SampleFile;
  try {
    labels = await openSamples(spec, cwd, 'labels');
  } catch (error) {
    samples.close();
    throw error;
  }
  if (labels.size !== samples.size) {
    samples.close();
    labels.close();
    throw runtimeError({ reason: `labels '${labels.file}' do not match samples '${samples.file}'`, location: { file: labels.file }, expected: `${samples.size} labels`, actual: `${labels.size}` });
  }
  return [samples, labels];
}

async function readRange(file: SampleFile, start: number, count: number): Promise<Uint8Array> {
  try {
    await file.skip(start);
    return await file.read(count);
  } finally {
    file.close();
  }
}

/** Labels as class indices (integers ≥ 0) from a labels file's elements. */
function classIndices(file: SampleFile, bytes: Uint8Array, count: number, start: number): Int32Array {
  if (file.sampleShape.length !== 0 || file.dtype === 'string' || file.dtype === 'bool') {
    throw runtimeError({ reason: `labels '${file.file}' must be a vector of integers`, location: { file: file.file }, actual: `${file.dtype}[${file.size},${file.sampleShape.join(',')}]` });
  }
  const values = Tensor.fromBytes(file.dtype, [count], bytes).toNumbers();
  const bad = values.findIndex((v) => !Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1 || (isFloatDType(file.dtype) && !Number.isFinite(v)));
  if (bad >= 0) throw runtimeError({ reason: `label ${start + bad} in '${file.file}' is ${values[bad]}, not a class index`, location: { file: file.file }, expected: 'integers ≥ 0' });
  return Int32Array.from(values);
}

/** Samples [start, end) and their labels, reading only that range of both files. */
export async function readDatasetRange(spec: string, options: DatasetRangeOptions = {}): Promise<LabelledDataset> {
  const cwd = options.cwd ?? process.cwd();
  const start = options.start ?? 0;
  if (!(Number.isInteger(start) && start >= 0)) throw runtimeError({ reason: `dataset '${spec}': range start is ${start}`, expected: 'an integer ≥ 0' });
  if (options.end !== undefined && !(Number.isInteger(options.end) && options.end > start)) {
    throw runtimeError({ reason: `dataset '${spec}': range [${start}, ${options.end}) is empty or not whole samples`, expected: `an integer end > ${start}` });
  }
  const [samples, labels] = await openBoth(spec, cwd);
  const end = Math.min(options.end ?? samples.size, samples.size);
  if (start >= end) {
    samples.close();
    labels.close();
    throw runtimeError({ reason: `dataset '${spec}' has ${samples.size} samples, none in [${start}, ${options.end ?? samples.size})` });
  }
  const count = end - start;
  const [sampleBytes, labelBytes] = await Promise.all([readRange(samples, start, count), readRange(labels, start, count)]);
  return {
    samples: Tensor.fromBytes(samples.dtype, [count, ...samples.sampleShape], sampleBytes),
    labels: classIndices(labels, labelBytes, count, start),
    size: count,
    sampleShape: samples.sampleShape,
  };
}
