/**
 * `validateReport(json)`: checks a parsed report against the version 1 JSON Schema (with ajv, draft
 * 2020-12) and returns it typed, or throws a `ModelpassError` listing every violation with its JSON
 * pointer (`/passes/0/timeMs: must be number`).
 */
import { ModelpassError } from '@modelpass/ir';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { REPORT_JSON_SCHEMA } from './json-schema.js';
import { REPORT_SCHEMA_VERSION, type Report } from './schema.js';

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    // ajv (~80 modules) loads on the first validation, not with the package: the CLI imports this package on every command.
    const { Ajv2020 } = createRequire(import.meta.url)('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
    const ajv = new Ajv2020({ allErrors: true, strict: true, validateFormats: false });
    compiled = ajv.compile(REPORT_JSON_SCHEMA as object);
  }
  return compiled;
}

function describeError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(report)' : error.instancePath;
  const extra =
    error.keyword === 'additionalProperties'
      ? ` '${String((error.params as { additionalProperty: string }).additionalProperty)}'`
      : error.keyword === 'enum' || error.keyword === 'const'
        ? ` ${JSON.stringify((error.params as { allowedValues?: unknown; allowedValue?: unknown }).allowedValues ?? (error.params as { allowedValue?: unknown }).allowedValue)}`
        : '';
  return `${where}: ${error.message ?? error.keyword}${extra}`;
}

/** The problems of `json` as a version 1 report (empty when valid). */
export function reportProblems(json: unknown): string[] {
  const validate = validator();
  if (validate(json)) return [];
  const errors = validate.errors ?? [];
  // oneOf failures repeat each branch's error; keep one line per message.
  return [...new Set(errors.map(describeError))];
}

/** `json` typed as a `Report` when it is a valid version 1 report; otherwise a `ModelpassError` naming every problem. */
export function validateReport(json: unknown, file?: string): Report {
  const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (json !== null && typeof json === 'object' && version !== undefined && version !== REPORT_SCHEMA_VERSION) {
    throw new ModelpassError({
      reason: `report schema version ${JSON.stringify(version)} is not supported`,
      expected: `schemaVersion ${REPORT_SCHEMA_VERSION}`,
      actual: JSON.stringify(version),
      ...(file ? { location: { file } } : {}),
      source: '@modelpass/report',
    });
  }
  const problems = reportProblems(json);
  if (problems.length > 0) {
    throw new ModelpassError({
      reason: `not a valid modelpass report (${problems.length} problem${problems.length === 1 ? '' : 's'})`,
      notes: problems.slice(0, 20),
      ...(file ? { location: { file } } : {}),
      source: '@modelpass/report',
      hint: 'the schema is @modelpass/report/schema/report.v1.json',
    });
  }
  return json as Report;
}

/** A metric as the report stores it: finite numbers as they are, others as `"Infinity"`, `"-Infinity"`, `"NaN"`. */
export function reportNumber(value: number): number | 'Infinity' | '-Infinity' | 'NaN' {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}
