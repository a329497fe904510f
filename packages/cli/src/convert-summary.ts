import type { StatisticsReport, TimingReport } from '@modelpass/pass-manager';
import type { ModelCounts } from './model-counts.js';

/** One pass of the pipeline as `convert` reports it (runs of the same pass are summed, as in `--timing`). */
export interface PassSummary {
  name: string;
  runs: number;
  ms: number;
  statistics: Record<string, number>;
}

/** An op whose node count the pipeline changed. */
export interface OpChange {
  op: string;
  before: number;
  after: number;
}

/** What `convert --json` prints, and what the table on a terminal shows. */
export interface ConvertSummary {
  input: { path: string; bytes: number | null };
  output: { path: string; bytes: number | null };
  /** The output path is the input file: the input was replaced. */
  overwroteInput: boolean;
  pipeline: string | null;
  before: ModelCounts;
  after: ModelCounts;
  opsChanged: OpChange[];
  passes: PassSummary[];
  /** Wall time of the whole pipeline, instrumentation and verification included. */
  pipelineMs: number;
}

export function opChanges(before: ModelCounts, after: ModelCounts): OpChange[] {
  const ops = new Set([...Object.keys(before.ops), ...Object.keys(after.ops)]);
  return [...ops]
    .map((op) => ({ op, before: before.ops[op] ?? 0, after: after.ops[op] ?? 0 }))
    .filter((change) => change.before !== change.after)
    .sort((a, b) => Math.abs(b.after - b.before) - Math.abs(a.after - a.before) || a.op.localeCompare(b.op));
}

export function passSummaries(timing: TimingReport | undefined, statistics: StatisticsReport | undefined): PassSummary[] {
  const passes = (timing?.passes ?? []).map((entry) => ({ name: entry.pass, runs: entry.runs, ms: roundMs(entry.wallMs), statistics: { ...(statistics?.[entry.pass] ?? {}) } }));
  // A pass that reported statistics but has no timing entry (nested reporting) still shows.
  for (const [name, values] of Object.entries(statistics ?? {})) {
    if (!passes.some((pass) => pass.name === name)) passes.push({ name, runs: 0, ms: 0, statistics: { ...values } });
  }
  return passes;
}

export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
