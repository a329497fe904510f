import type { Model } from '@modelpass/ir';
import type { PassInstrumentation, PassRunInfo, PassRunOutcome } from './instrumentation.js';

/** Pass name → statistic name → summed value, in execution order. */
export type StatisticsReport = Record<string, Record<string, number>>;

/**
 * Collects the statistics each pass declared and counted (`context.statistic`), summed over every
 * execution of the pass (like MLIR's `-mlir-pass-statistics`).
 */
export class StatisticsInstrumentation implements PassInstrumentation {
  readonly name = 'statistics';
  private readonly byPass = new Map<string, Map<string, number>>();

  afterPass(_model: Model, pass: PassRunInfo, outcome: PassRunOutcome): void {
    if (outcome.statistics.size === 0) return;
    let totals = this.byPass.get(pass.passName);
    if (!totals) this.byPass.set(pass.passName, (totals = new Map()));
    for (const [name, value] of outcome.statistics) totals.set(name, (totals.get(name) ?? 0) + value);
  }

  /** One pass's totals, when it ran and declares statistics. */
  get(passName: string): ReadonlyMap<string, number> | undefined {
    return this.byPass.get(passName);
  }

  toJSON(): StatisticsReport {
    const report: StatisticsReport = {};
    for (const [pass, totals] of this.byPass) report[pass] = Object.fromEntries(totals);
    return report;
  }

  report(): string {
    const rule = '===' + '-'.repeat(73) + '===';
    const lines = [rule, '... Pass statistics report ...'.padStart(52), rule];
    for (const [pass, totals] of this.byPass) {
      lines.push(pass);
      const width = Math.max(...[...totals.values()].map((v) => String(v).length));
      for (const [name, value] of totals) lines.push(`  (S) ${String(value).padStart(width)} ${name}`);
    }
    if (this.byPass.size === 0) lines.push('  (no pass declared statistics)');
    return lines.join('\n') + '\n';
  }
}
