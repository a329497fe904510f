/**
 * Labelled datasets named by one string, as `modelpass eval --dataset` takes them:
 * `fashion-mnist:test` / `fashion-mnist:train` (Debian's dataset-fashion-mnist), `idx:IMAGES,LABELS`
 * (IDX files, gzipped or not) and `npy:DIR` (`DIR/x.npy` samples, `DIR/y.npy` integer labels).
 * A table of schemes, so a new kind of dataset is one entry.
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isFloatDType, type Tensor } from '@modelpass/ir';
import { runtimeError } from './errors.js';
import { loadFashionMnist, loadIdxDataset, type LabelledDataset } from './idx-dataset.js';
import { readNpy, readNpyRows } from './npy.js';

export interface DatasetSpecOptions {
  /** Relative paths are resolved against this folder (default `process.cwd()`). */
  readonly cwd?: string;
  /** Read only the first `limit` samples (IDX and numeric NumPy files read no further than that). */
  readonly limit?: number;
}

interface DatasetScheme {
  readonly name: string;
  /** How the part after `name:` is written, for help and errors. */
  readonly argument: string;
  readonly summary: string;
  load(argument: string, spec: string, options: DatasetSpecOptions): LabelledDataset;
}

/** A dataset spec that cannot be used: names the spec, what is wrong and what was expected. */
export function badSpec(spec: string, reason: string, expected: string, hint?: string): Error {
  return runtimeError({ reason: `dataset '${spec}': ${reason}`, expected, actual: `'${spec}'`, ...(hint ? { hint } : {}) });
}

/** For a spec without a known scheme: what the user probably meant when it names a folder or an IDX file. */
export function schemeHint(spec: string, cwd = process.cwd()): string | undefined {
  let stat;
  try {
    stat = statSync(resolve(cwd, spec));
  } catch {
    return undefined;
  }
  if (stat.isDirectory()) return `'${spec}' is a folder: a folder of .npy samples and labels is written 'npy:${spec}'`;
  if (/(ubyte|idx\d?)(\.gz)?$/i.test(spec)) return `'${spec}' looks like an IDX file: write 'idx:IMAGES,LABELS'`;
  return undefined;
}

const fashionMnist: DatasetScheme = {
  name: 'fashion-mnist',
  argument: 'train|test',
  summary: "Fashion-MNIST from Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)",
  load(argument, spec, options) {
    if (argument !== 'train' && argument !== 'test') throw badSpec(spec, `unknown split '${argument}'`, "'fashion-mnist:train' or 'fashion-mnist:test'");
    return loadFashionMnist({ split: argument, ...(options.limit !== undefined ? { limit: options.limit } : {}) });
  },
};

const idx: DatasetScheme = {
  name: 'idx',
  argument: 'IMAGES,LABELS',
  summary: 'IDX files (MNIST layout, gzipped or not): samples, then labels',
  load(argument, spec, options) {
    const parts = argument.split(',');
    if (parts.length !== 2 || parts.some((p) => p.trim() === '')) throw badSpec(spec, 'needs two files separated by a comma', "'idx:IMAGES.gz,LABELS.gz'");
    const cwd = options.cwd ?? process.cwd();
    return loadIdxDataset({ images: resolve(cwd, parts[0]!), labels: resolve(cwd, parts[1]!) }, options.limit);
  },
};

/** Labels as non-negative integers from any integer (or integral float) tensor. */
function labelsOf(tensor: Tensor, file: string): Int32Array {
  if (tensor.rank !== 1 || tensor.dtype === 'string' || tensor.dtype === 'bool') {
    throw runtimeError({ reason: `labels '${file}' must be a vector of integers`, location: { file }, actual: `${tensor.dtype}[${tensor.shape.join(',')}]` });
  }
  const values = tensor.toNumbers();
  const bad = values.findIndex((v) => !Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1 || (isFloatDType(tensor.dtype) && !Number.isFinite(v)));
  if (bad >= 0) throw runtimeError({ reason: `label ${bad} in '${file}' is ${values[bad]}, not a class index`, location: { file }, expected: 'integers ≥ 0' });
  return Int32Array.from(values);
}

const npy: DatasetScheme = {
  name: 'npy',
  argument: 'DIR',
  summary: 'NumPy files DIR/x.npy (samples, first axis = sample) and DIR/y.npy (integer labels)',
  load(argument, spec, options) {
    if (argument === '') throw badSpec(spec, 'needs a folder', "'npy:DIR' with DIR/x.npy and DIR/y.npy");
    const dir = resolve(options.cwd ?? process.cwd(), argument);
    const xFile = join(dir, 'x.npy');
    const yFile = join(dir, 'y.npy');
    const samples = options.limit !== undefined ? readNpyRows(xFile, options.limit) : readNpy(xFile);
    if (samples.rank < 1) throw runtimeError({ reason: `samples '${xFile}' must have a sample axis first`, location: { file: xFile }, actual: `shape [${samples.shape.join(',')}]` });
    const allLabels = labelsOf(readNpy(yFile), yFile);
    const labels = options.limit !== undefined ? allLabels.subarray(0, options.limit) : allLabels;
    if (labels.length !== samples.shape[0]) {
      throw runtimeError({ reason: `'${yFile}' has ${labels.length} labels for ${samples.shape[0]} samples in '${xFile}'`, location: { file: yFile }, expected: `${samples.shape[0]} labels` });
    }
    return { samples, labels, size: samples.shape[0]!, sampleShape: samples.shape.slice(1) };
  },
};

/** The dataset schemes `loadDataset` knows, by name. */
export const DATASET_SCHEMES: ReadonlyMap<string, Omit<DatasetScheme, 'load'>> = new Map([fashionMnist, idx, npy].map((s) => [s.name, s]));
const schemes = new Map([fashionMnist, idx, npy].map((s) => [s.name, s]));

/** Loads the dataset a spec like `fashion-mnist:test`, `idx:a.gz,b.gz` or `npy:dir` names. */
export function loadDataset(spec: string, options: DatasetSpecOptions = {}): LabelledDataset {
  const colon = spec.indexOf(':');
  const name = colon < 0 ? spec : spec.slice(0, colon);
  const scheme = schemes.get(name);
  const known = [...schemes.values()].map((s) => `${s.name}:${s.argument}`).join(', ');
  if (!scheme) throw badSpec(spec, `unknown kind of dataset '${name}'`, `one of ${known}`, schemeHint(spec));
  if (colon < 0) throw badSpec(spec, `'${name}' needs an argument`, `'${name}:${scheme.argument}'`);
  return scheme.load(spec.slice(colon + 1), spec, options);
}
