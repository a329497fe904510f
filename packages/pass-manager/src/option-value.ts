import type { OptionValueAst, ScalarValueAst } from './pipeline/ast.js';
import { printScalar } from './pipeline/syntax.js';
import type { BooleanOption, EnumOption, NumberOption, OptionSpec, OptionSpecs, StringOption } from './option.js';
import { kebabCase } from './option.js';
import { closestName } from './suggest.js';

/**
 * Checking and converting option values: from pipeline text (phase 2 of parsing) and from code.
 * Failures come back as `OptionProblem`s so the caller can locate them (a column of the pipeline
 * text, or a pass in a pipeline built in code).
 */

export interface OptionProblem {
  /** `expects a number in [0, 1], got 'abc'`. */
  readonly reason: string;
  readonly expected: string;
  readonly actual: string;
  readonly suggestion?: string;
  /** Column of the offending list item, when it is one. */
  readonly column?: number;
}

type ScalarSpec = NumberOption | BooleanOption | StringOption | EnumOption;

/** `a number in [0, 1]`, `an integer ≥ 1`, `one of int8, uint8`, `a list of numbers in [0, 1]`. */
export function describeOptionSpec(spec: OptionSpec): string {
  if (spec.kind === 'list') return `a list of ${describeScalar(spec.element, true)}`;
  return describeScalar(spec, false);
}

function describeScalar(spec: ScalarSpec, plural: boolean): string {
  switch (spec.kind) {
    case 'number': {
      const noun = spec.integer ? (plural ? 'integers' : 'an integer') : plural ? 'numbers' : 'a number';
      if (spec.min !== undefined && spec.max !== undefined) return `${noun} in [${spec.min}, ${spec.max}]`;
      if (spec.min !== undefined) return `${noun} ≥ ${spec.min}`;
      if (spec.max !== undefined) return `${noun} ≤ ${spec.max}`;
      return noun;
    }
    case 'boolean':
      return plural ? 'booleans (true or false)' : 'a boolean (true or false)';
    case 'enum':
      return `${plural ? 'values, each ' : ''}one of ${spec.values.join(', ')}`;
    case 'string':
      return spec.pattern !== undefined ? `${plural ? 'strings' : 'a string'} matching /${spec.pattern}/` : plural ? 'strings' : 'a string';
  }
}

const NUMBER_TEXT = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

function problem(spec: OptionSpec, actual: string, extra: { suggestion?: string; column?: number } = {}): OptionProblem {
  const expected = describeOptionSpec(spec);
  return { reason: `expects ${expected}, got ${actual}`, expected, actual, ...extra };
}

function checkScalar(spec: ScalarSpec, value: unknown, shown: string, outer: OptionSpec, column?: number): unknown | OptionProblem {
  const fail = (extra: { suggestion?: string } = {}): OptionProblem => problem(outer, shown, { ...extra, ...(column !== undefined ? { column } : {}) });
  switch (spec.kind) {
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return fail();
      if (spec.integer && !Number.isInteger(value)) return fail();
      if (spec.min !== undefined && value < spec.min) return fail();
      if (spec.max !== undefined && value > spec.max) return fail();
      return value;
    case 'boolean':
      return typeof value === 'boolean' ? value : fail();
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) {
        const suggestion = typeof value === 'string' ? closestName(value, spec.values) : undefined;
        return fail(suggestion !== undefined ? { suggestion } : {});
      }
      return value;
    case 'string':
      if (typeof value !== 'string') return fail();
      if (spec.pattern !== undefined && !new RegExp(`^(?:${spec.pattern})$`).test(value)) return fail();
      return value;
  }
}

function isProblem(value: unknown): value is OptionProblem {
  return typeof value === 'object' && value !== null && 'reason' in value && 'expected' in value && 'actual' in value;
}

/** Pipeline text of one scalar → the typed value, or a problem. */
function scalarFromText(spec: ScalarSpec, ast: ScalarValueAst, outer: OptionSpec): unknown | OptionProblem {
  const shown = `'${ast.text}'`;
  let value: unknown = ast.text;
  if (spec.kind === 'number') value = NUMBER_TEXT.test(ast.text) ? Number(ast.text) : NaN;
  if (spec.kind === 'boolean') value = ast.text === 'true' ? true : ast.text === 'false' ? false : undefined;
  return checkScalar(spec, value, shown, outer, ast.column);
}

/** Phase 2: the value written in pipeline text, typed by the option's spec. */
export function optionValueFromText(spec: OptionSpec, ast: OptionValueAst): { value: unknown } | { problem: OptionProblem } {
  if (spec.kind === 'list') {
    // A single scalar is accepted as a one-element list.
    const items = ast.kind === 'list' ? ast.items : [ast];
    const values: unknown[] = [];
    for (const item of items) {
      const value = scalarFromText(spec.element, item, spec);
      if (isProblem(value)) return { problem: value };
      values.push(value);
    }
    return { value: Object.freeze(values) };
  }
  if (ast.kind === 'list') return { problem: problem(spec, `a list [${ast.items.map((i) => i.text).join(',')}]`) };
  const value = scalarFromText(spec, ast, spec);
  return isProblem(value) ? { problem: value } : { value };
}

function showValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `[${value.map(showValue).join(', ')}]`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  // A bigint or a function printed plainly would read as the number or text an option wants.
  if (typeof value === 'bigint') return `the bigint ${value}n`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  return String(value);
}

/** A value given in code (camelCase options object), checked against the spec. */
export function checkOptionValue(spec: OptionSpec, value: unknown): { value: unknown } | { problem: OptionProblem } {
  if (spec.kind === 'list') {
    if (!Array.isArray(value)) return { problem: problem(spec, showValue(value)) };
    const values: unknown[] = [];
    for (const item of value) {
      const checked = checkScalar(spec.element, item, showValue(value), spec);
      if (isProblem(checked)) return { problem: checked };
      values.push(checked);
    }
    return { value: Object.freeze(values) };
  }
  const checked = checkScalar(spec, value, showValue(value), spec);
  return isProblem(checked) ? { problem: checked } : { value: checked };
}

/** A typed value as pipeline text (canonical: numbers in JS notation, lists in brackets). */
export function printOptionValue(spec: OptionSpec, value: unknown): string {
  if (spec.kind === 'list') return '[' + (value as readonly unknown[]).map((item) => printScalar(String(item))).join(',') + ']';
  return printScalar(String(value));
}

/** Problems with the specs themselves (a default outside its range, an empty enum), for registration. */
export function checkOptionSpecs(options: OptionSpecs): string[] {
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(options)) {
    const kebab = kebabCase(name);
    if (!/^[a-z][a-zA-Z0-9]*$/.test(name)) problems.push(`option '${name}' must be a camelCase identifier`);
    if (spec.kind === 'enum' && spec.values.length === 0) problems.push(`option '${kebab}' is an enum without values`);
    if (spec.kind === 'number' && spec.min !== undefined && spec.max !== undefined && spec.min > spec.max) {
      problems.push(`option '${kebab}' has min ${spec.min} > max ${spec.max}`);
    }
    if (spec.default !== undefined) {
      const checked = checkOptionValue(spec, spec.default);
      if ('problem' in checked) problems.push(`the default of option '${kebab}' ${checked.problem.reason}`);
    }
  }
  return problems;
}
