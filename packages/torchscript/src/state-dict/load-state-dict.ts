/**
 * Loading named weights onto a model: every graph constant (initializer) whose name, after an
 * optional rename, matches a state-dict entry gets that tensor; the report says what was loaded,
 * what the model has that the weights lack (missing), what the weights have that the model lacks
 * (unexpected) and where shapes or dtypes differ (mismatched, left unchanged).
 */
import type { Model, Tensor, Value } from '@modelpass/ir';
import { torchscriptError } from '../errors.js';

export interface LoadStateDictOptions {
  /** Maps a state-dict name to the model's constant name (e.g. strip a `module.` prefix). */
  rename?: (name: string) => string;
  /** Throw when anything is missing, unexpected or mismatched (default false: report only). */
  strict?: boolean;
}

export interface StateDictMismatch {
  name: string;
  expected: string;
  actual: string;
}

export interface LoadStateDictReport {
  loaded: string[];
  missing: string[];
  unexpected: string[];
  mismatched: StateDictMismatch[];
}

const describe = (t: { dtype: string; shape: readonly number[] }): string => `${t.dtype}[${t.shape.join(',')}]`;

export function loadStateDict(model: Model, weights: ReadonlyMap<string, Tensor>, options: LoadStateDictOptions = {}): LoadStateDictReport {
  const constants = new Map<string, Value>();
  for (const value of model.graph.constants) constants.set(value.name, value);
  const report: LoadStateDictReport = { loaded: [], missing: [], unexpected: [], mismatched: [] };
  const used = new Set<string>();
  for (const [sourceName, tensor] of weights) {
    const name = options.rename ? options.rename(sourceName) : sourceName;
    const value = constants.get(name);
    if (!value) {
      report.unexpected.push(sourceName);
      continue;
    }
    used.add(name);
    const current = value.constant!;
    if (current.dtype !== tensor.dtype || current.shape.length !== tensor.shape.length || current.shape.some((d, i) => d !== tensor.shape[i])) {
      report.mismatched.push({ name, expected: describe(current), actual: describe(tensor) });
      continue;
    }
    value.setConstant(tensor);
    report.loaded.push(name);
  }
  for (const name of constants.keys()) if (!used.has(name)) report.missing.push(name);
  if (options.strict && (report.missing.length || report.unexpected.length || report.mismatched.length)) {
    const notes = [
      ...report.missing.slice(0, 20).map((n) => `missing: ${n}`),
      ...report.unexpected.slice(0, 20).map((n) => `unexpected: ${n}`),
      ...report.mismatched.slice(0, 20).map((m) => `mismatched: ${m.name} (model ${m.expected}, weights ${m.actual})`),
    ];
    throw torchscriptError({
      reason: `the weights do not fit the model: ${report.missing.length} missing, ${report.unexpected.length} unexpected, ${report.mismatched.length} mismatched`,
      notes,
      hint: 'pass rename to map state-dict names onto the model\'s initializer names, or strict: false to load what fits',
      code: 'torchscript/state-dict',
    });
  }
  return report;
}
