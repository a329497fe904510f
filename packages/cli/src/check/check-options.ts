/**
 * The `--check` flags of `convert` and what they parse to: tolerance, where the check inputs come
 * from (a tensor folder, a dataset, or seeded random tensors), the accuracy budget.
 */
import { resolve } from 'node:path';
import { DEFAULT_ATOL, DEFAULT_RTOL } from '@modelpass/runtime';
import type { FlagSpecs, ParsedArgs } from '../args.js';
import { flagList, flagString } from '../args.js';
import { UsageError } from '../usage-error.js';
import { parseDimSizes } from '../name-bindings.js';
import { checkSeedText } from '../seed-flag.js';

/** Samples of a `--check-dataset` the check runs on unless `--check-samples` says otherwise. */
export const DEFAULT_CHECK_SAMPLES = 256;
/** Allowed top-1 accuracy drop against the original on a labelled dataset (one percentage point). */
export const DEFAULT_ACCURACY_BUDGET = 0.01;

export const checkFlags: FlagSpecs = {
  check: {
    type: 'optional',
    help: `after every pass, run the model and the original on the same inputs in ONNX Runtime; stop at the first pass whose outputs break |a - e| <= atol + rtol·|e| (default ${DEFAULT_ATOL},${DEFAULT_RTOL}), name the first diverging node, write a reproducer, exit 1`,
    valueName: 'ATOL,RTOL',
  },
  'check-inputs': { type: 'string', help: 'with --check: a folder (or file) of inputs (.npy/.pb) instead of random ones', valueName: 'DIR' },
  'check-dataset': { type: 'string', help: 'with --check: samples of a labelled dataset (fashion-mnist:test, idx:…, npy:DIR); adds accuracy per pass', valueName: 'SPEC' },
  'check-samples': { type: 'string', help: `with --check-dataset: samples to run (default ${DEFAULT_CHECK_SAMPLES})`, valueName: 'N' },
  'check-accuracy-budget': {
    type: 'string',
    help: `with --check-dataset: largest allowed top-1 accuracy drop, 0 to 1 (default ${DEFAULT_ACCURACY_BUDGET})`,
    valueName: 'X',
  },
  'check-seed': { type: 'string', help: 'with --check and random inputs: the seed (default 0)', valueName: 'N' },
  'check-dim': { type: 'list', help: 'with --check and random inputs: size of a symbolic dimension (default 1)', valueName: 'NAME=SIZE' },
};

export type CheckInputSource =
  | { readonly kind: 'random'; readonly seed: number; readonly dims: Readonly<Record<string, number>> }
  | { readonly kind: 'folder'; readonly path: string; readonly argument: string }
  | { readonly kind: 'dataset'; readonly spec: string; readonly samples: number };

export interface CheckOptions {
  readonly atol: number;
  readonly rtol: number;
  readonly inputs: CheckInputSource;
  /** Present with a dataset. */
  readonly accuracyBudget?: number;
}

function nonNegative(text: string, what: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) throw new UsageError(`${what} takes a non-negative number, got '${text}'`);
  return value;
}

function parseTolerance(value: string | boolean): { atol: number; rtol: number } {
  if (value === true) return { atol: DEFAULT_ATOL, rtol: DEFAULT_RTOL };
  const parts = String(value).split(',');
  if (parts.length > 2) throw new UsageError(`--check takes ATOL or ATOL,RTOL (e.g. --check=1e-4,1e-3), got '${String(value)}'`);
  const atol = nonNegative(parts[0]!, '--check ATOL');
  const rtol = parts.length === 2 ? nonNegative(parts[1]!, '--check RTOL') : DEFAULT_RTOL;
  return { atol, rtol };
}

/** The check the flags ask for, or undefined without `--check`; a dependent flag without `--check` is a usage error. */
export function checkOptionsFromFlags(args: ParsedArgs, cwd: string): CheckOptions | undefined {
  const check = args.flags.get('check');
  const dependents = Object.keys(checkFlags).filter((name) => name !== 'check' && args.flags.has(name));
  if (check === undefined || check === false) {
    if (dependents.length > 0) throw new UsageError(`--${dependents[0]} needs --check`);
    return undefined;
  }
  const { atol, rtol } = parseTolerance(check as string | boolean);
  const folder = flagString(args, 'check-inputs');
  const dataset = flagString(args, 'check-dataset');
  const seedText = flagString(args, 'check-seed');
  const dims = flagList(args, 'check-dim');
  if (folder !== undefined && dataset !== undefined) throw new UsageError('use either --check-inputs or --check-dataset, not both');
  if ((folder !== undefined || dataset !== undefined) && (seedText !== undefined || dims.length > 0)) {
    throw new UsageError(`--check-seed and --check-dim shape random inputs; with --check-${folder !== undefined ? 'inputs' : 'dataset'} the data gives them`);
  }
  if (dataset === undefined && (args.flags.has('check-samples') || args.flags.has('check-accuracy-budget'))) {
    throw new UsageError(`--${args.flags.has('check-samples') ? 'check-samples' : 'check-accuracy-budget'} needs --check-dataset`);
  }
  if (folder !== undefined) return { atol, rtol, inputs: { kind: 'folder', path: resolve(cwd, folder), argument: folder } };
  if (dataset !== undefined) {
    const samplesText = flagString(args, 'check-samples');
    if (samplesText !== undefined && (!/^\d+$/.test(samplesText) || Number(samplesText) < 1)) throw new UsageError(`--check-samples takes a positive integer, got '${samplesText}'`);
    const budgetText = flagString(args, 'check-accuracy-budget');
    const accuracyBudget = budgetText === undefined ? DEFAULT_ACCURACY_BUDGET : nonNegative(budgetText, '--check-accuracy-budget');
    if (accuracyBudget > 1) throw new UsageError(`--check-accuracy-budget is a fraction from 0 to 1, got '${budgetText}'`);
    return { atol, rtol, accuracyBudget, inputs: { kind: 'dataset', spec: dataset, samples: samplesText !== undefined ? Number(samplesText) : DEFAULT_CHECK_SAMPLES } };
  }
  checkSeedText(seedText, '--check-seed');
  return { atol, rtol, inputs: { kind: 'random', seed: seedText !== undefined ? Number(seedText) : 0, dims: parseDimSizes(dims, 'check-dim', 'N=4') } };
}
