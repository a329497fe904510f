import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelpassError } from '@modelpass/ir';
import type { StatisticsReport } from '@modelpass/pass-manager';

/** One golden case: a folder with `input.mpir`, `output.mpir` and (optionally) `options.json`. */
export interface GoldenCase {
  /** `<pass>/<case>`, or `<case>` for a case directly under the fixtures folder. */
  readonly label: string;
  /** The case folder's name. */
  readonly name: string;
  /** The pass folder's name (layout `fixtures/<pass>/<case>/`); undefined for `fixtures/<case>/`. */
  readonly pass: string | undefined;
  /** The case folder (absolute). */
  readonly dir: string;
  /** The pipeline run on `input.mpir`: `options.json`'s `pipeline`, or `<pass>{options}`. */
  readonly pipeline: string;
  /** Statistics the run must report (a subset: pass → statistic → total). */
  readonly statistics: StatisticsReport | undefined;
  /** Substrings of the warnings the run must report, in order (all of them when given). */
  readonly warnings: readonly string[] | undefined;
  /** A case named `declines-*` must leave the model unchanged. */
  readonly declines: boolean;
}

export const GOLDEN_FILES = { input: 'input.mpir', output: 'output.mpir', options: 'options.json' } as const;

/** Keys that make `options.json` a case description rather than the pass's options. */
const CASE_KEYS = ['pipeline', 'options', 'statistics', 'warnings'] as const;

function caseError(file: string, reason: string, extra: { expected?: string; actual?: string; hint?: string } = {}): ModelpassError {
  return new ModelpassError({ reason, location: { file }, source: '@modelpass/testing', code: 'golden/bad-case', ...extra });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A folder given as a path or a `file:` URL (`new URL('../fixtures', import.meta.url)`). */
export function toDirectory(dir: string | URL): string {
  return resolve(dir instanceof URL || dir.startsWith('file:') ? fileURLToPath(dir) : dir);
}

function optionScalar(file: string, key: string, value: unknown): string {
  if (typeof value === 'string') return /^[^\s{}[\](),="'\\]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw caseError(file, `option '${key}' must be a string, number, boolean or a list of them`, { actual: JSON.stringify(value) });
}

/** `pass{key=value ...}` from a pass-options object (kebab-case keys, as in pipeline text). */
export function pipelineWithOptions(pass: string, options: Record<string, unknown>, file = '<options>'): string {
  const entries = Object.entries(options).map(([key, value]) =>
    `${key}=${Array.isArray(value) ? `[${value.map((item) => optionScalar(file, key, item)).join(',')}]` : optionScalar(file, key, value)}`,
  );
  return entries.length === 0 ? pass : `${pass}{${entries.join(' ')}}`;
}

function readOptionsFile(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw caseError(file, `not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isRecord(value)) throw caseError(file, 'expected a JSON object', { actual: JSON.stringify(value) });
  return value;
}

function checkStatistics(file: string, value: unknown): StatisticsReport {
  const shape = '{ "<pass>": { "<statistic>": <number> } }';
  if (!isRecord(value)) throw caseError(file, "'statistics' must be an object", { expected: shape });
  for (const [pass, counts] of Object.entries(value)) {
    if (!isRecord(counts) || !Object.values(counts).every((n) => typeof n === 'number')) {
      throw caseError(file, `'statistics.${pass}' must map statistic names to numbers`, { expected: shape, actual: JSON.stringify(counts) });
    }
  }
  return value as StatisticsReport;
}

function describeCase(dir: string, name: string, pass: string | undefined): GoldenCase {
  const file = join(dir, GOLDEN_FILES.options);
  const options = readOptionsFile(file);
  const label = pass === undefined ? name : `${pass}/${name}`;
  const isCaseForm = CASE_KEYS.some((key) => key in options);
  let pipeline: string | undefined;
  let statistics: StatisticsReport | undefined;
  let warnings: readonly string[] | undefined;
  if (isCaseForm) {
    const unknown = Object.keys(options).filter((key) => !(CASE_KEYS as readonly string[]).includes(key));
    if (unknown.length > 0) {
      throw caseError(file, `unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} next to ${CASE_KEYS.filter((k) => k in options).map((k) => `'${k}'`).join(', ')}`, {
        expected: `only ${CASE_KEYS.join(', ')}`,
        hint: "put the pass's own options under \"options\"",
      });
    }
    if (options['pipeline'] !== undefined && typeof options['pipeline'] !== 'string') throw caseError(file, "'pipeline' must be pipeline text", { actual: JSON.stringify(options['pipeline']) });
    if (options['pipeline'] !== undefined && options['options'] !== undefined) throw caseError(file, "give either 'pipeline' or 'options', not both");
    if (options['options'] !== undefined && !isRecord(options['options'])) throw caseError(file, "'options' must be an object of the pass's options", { actual: JSON.stringify(options['options']) });
    if (options['statistics'] !== undefined) statistics = checkStatistics(file, options['statistics']);
    if (options['warnings'] !== undefined) {
      const value = options['warnings'];
      if (!Array.isArray(value) || !value.every((w) => typeof w === 'string')) throw caseError(file, "'warnings' must be a list of strings", { actual: JSON.stringify(value) });
      warnings = value as string[];
    }
    pipeline = options['pipeline'] as string | undefined;
    if (pipeline === undefined && pass !== undefined) pipeline = pipelineWithOptions(pass, (options['options'] as Record<string, unknown> | undefined) ?? {}, file);
  } else if (pass !== undefined) {
    pipeline = pipelineWithOptions(pass, options, file);
  }
  if (pipeline === undefined) {
    throw caseError(file, `case '${label}' names no pipeline`, {
      hint: 'put the case under fixtures/<pass>/<case>/, or write {"pipeline": "..."} in its options.json',
    });
  }
  return Object.freeze({ label, name, pass, dir, pipeline, statistics, warnings, declines: name.startsWith('declines-') });
}

function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() || (entry.isSymbolicLink() && statSync(join(dir, entry.name)).isDirectory()))
    .map((entry) => entry.name)
    .sort();
}

/**
 * Finds the golden cases under `dir`: every folder holding `input.mpir`, either `dir/<pass>/<case>/`
 * (the pipeline is `<pass>{options.json}`) or `dir/<case>/` (options.json names the `pipeline`).
 * Throws when `dir` is missing or holds no case (a harness that runs nothing proves nothing).
 */
export function discoverGoldenCases(dir: string | URL): GoldenCase[] {
  const root = toDirectory(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new ModelpassError({ reason: `the golden fixtures folder '${root}' does not exist`, source: '@modelpass/testing', code: 'golden/no-fixtures' });
  }
  const cases: GoldenCase[] = [];
  for (const first of subfolders(root)) {
    const firstDir = join(root, first);
    if (existsSync(join(firstDir, GOLDEN_FILES.input))) {
      cases.push(describeCase(firstDir, first, undefined));
      continue;
    }
    for (const second of subfolders(firstDir)) {
      const caseDir = join(firstDir, second);
      if (existsSync(join(caseDir, GOLDEN_FILES.input))) cases.push(describeCase(caseDir, second, first));
    }
  }
  if (cases.length === 0) {
    throw new ModelpassError({
      reason: `no golden cases under '${root}'`,
      expected: `${root}/<pass>/<case>/${GOLDEN_FILES.input} (or ${root}/<case>/${GOLDEN_FILES.input})`,
      source: '@modelpass/testing',
      code: 'golden/no-cases',
    });
  }
  return cases;
}
