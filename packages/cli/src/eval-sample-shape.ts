/**
 * How `eval` learns the shape of one sample: `--sample-shape D,D,…` (the sample alone) or
 * `--input-shape NAME=DIMS` as `convert`, `compare` and `inspect` take it (the whole input, batch
 * dim first). Both at once is a usage error: two spellings of one fact that could disagree.
 */
import type { Dim } from '@modelpass/ir';
import { UsageError } from './usage-error.js';

export interface EvalShapes {
  /** One sample's shape (without the batch dim), when a flag gave it. */
  readonly sampleShape?: readonly number[];
  /** A numeric batch dim from `--input-shape`: the batch size unless `--batch-size` says otherwise. */
  readonly batchSize?: number;
}

/** Parses `--sample-shape` text: sizes separated by commas. */
export function parseSampleShape(text: string): number[] {
  const dims = text.split(',').map((d) => (/^\s*\d+\s*$/.test(d) ? Number(d) : NaN));
  if (dims.some((d) => !Number.isInteger(d))) throw new UsageError(`--sample-shape takes sizes separated by commas, e.g. 1,28,28, got '${text}'`);
  return dims;
}

/**
 * The sample shape from either flag. With `--input-shape`, the entry for the samples' input (the
 * `--input` one, or the only entry) gives it: every dim after the batch dim must be a size.
 */
export function evalShapes(sampleShapeText: string | undefined, inputShapes: ReadonlyMap<string, readonly Dim[]>, inputName: string | undefined): EvalShapes {
  if (sampleShapeText !== undefined && inputShapes.size > 0) {
    throw new UsageError('give the sample shape once: --sample-shape D,D,… (one sample) or --input-shape NAME=BATCH,D,D,… (the whole input), not both');
  }
  if (sampleShapeText !== undefined) return { sampleShape: parseSampleShape(sampleShapeText) };
  if (inputShapes.size === 0) return {};
  const name = inputName ?? (inputShapes.size === 1 ? [...inputShapes.keys()][0]! : undefined);
  if (name === undefined) {
    throw new UsageError(`--input-shape gives ${inputShapes.size} inputs (${[...inputShapes.keys()].join(', ')}); say which one takes the samples with --input NAME`);
  }
  const dims = inputShapes.get(name);
  if (dims === undefined) return {};
  const text = `${name}=${dims.map((d) => d ?? '?').join(',')}`;
  if (dims.length === 0) throw new UsageError(`--input-shape ${text}: eval feeds a batch of samples, so the input needs a batch dim first, e.g. ${name}=batch,1,28,28`);
  const sample = dims.slice(1);
  if (!sample.every((d): d is number => typeof d === 'number')) {
    throw new UsageError(`--input-shape ${text}: eval needs every dim after the batch dim as a size, e.g. ${name}=batch,1,28,28`);
  }
  const batch = dims[0];
  return { sampleShape: sample, ...(typeof batch === 'number' && batch > 0 ? { batchSize: batch } : {}) };
}

