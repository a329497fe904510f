/** Records every pass execution for the report's `passes[]`: options, time, change, statistics. */
import type { Model } from '@modelpass/ir';
import type { PassInstrumentation, PassRunInfo, PassRunOutcome } from '@modelpass/pass-manager';
import type { PassRecord } from '@modelpass/report';

/** Option values as JSON: bigints as numbers when safe (strings otherwise), nested lists kept. */
function jsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(jsonValue);
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonValue(v)]));
  return value;
}

export class PassRecorder implements PassInstrumentation {
  readonly name = 'report-passes';
  readonly records: PassRecord[] = [];

  afterPass(_model: Model, pass: PassRunInfo, outcome: PassRunOutcome): void {
    this.records.push({
      index: pass.index,
      name: pass.passName,
      ...(pass.nesting.length > 0 ? { nesting: [...pass.nesting] } : {}),
      options: jsonValue(pass.options) as Record<string, unknown>,
      timeMs: Math.round(outcome.durationMs * 1000) / 1000,
      changed: outcome.changed,
      statistics: Object.fromEntries(outcome.statistics),
    });
  }
}
