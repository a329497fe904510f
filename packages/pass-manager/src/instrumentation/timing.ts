import type { Model } from '@modelpass/ir';
import type { PassInstrumentation, PassRunInfo, PassRunOutcome } from './instrumentation.js';

export interface PassTiming {
  readonly pass: string;
  /** Executions of the pass in the pipeline run. */
  readonly runs: number;
  /** Summed wall time of its `run` calls, in milliseconds. */
  readonly wallMs: number;
}

export interface TimingReport {
  /** Wall time of the whole pipeline run (passes, verification and instrumentation). */
  readonly totalMs: number;
  /** Per pass name, in order of first execution. */
  readonly passes: readonly PassTiming[];
  /** Time outside pass `run` calls: verify-each, IR printing, other instrumentation. */
  readonly otherMs: number;
}

/**
 * Per-pass wall time, summed by pass name (like MLIR's `-mlir-timing` in list mode). `report()`
 * gives a table; `toJSON()` the numbers. Timings accumulate over several pipeline runs.
 */
export class TimingInstrumentation implements PassInstrumentation {
  readonly name = 'timing';
  private readonly byPass = new Map<string, { runs: number; wallMs: number }>();
  private totalMs = 0;
  private pipelineStart: number | undefined;

  beforePipeline(): void {
    this.pipelineStart = performance.now();
  }

  afterPipeline(): void {
    this.stop();
  }

  afterPipelineFailed(): void {
    this.stop();
  }

  private stop(): void {
    if (this.pipelineStart !== undefined) this.totalMs += performance.now() - this.pipelineStart;
    this.pipelineStart = undefined;
  }

  afterPass(_model: Model, pass: PassRunInfo, outcome: PassRunOutcome): void {
    const entry = this.byPass.get(pass.passName) ?? { runs: 0, wallMs: 0 };
    entry.runs++;
    entry.wallMs += outcome.durationMs;
    this.byPass.set(pass.passName, entry);
  }

  toJSON(): TimingReport {
    const passes = [...this.byPass].map(([pass, t]) => ({ pass, runs: t.runs, wallMs: t.wallMs }));
    const passTotal = passes.reduce((sum, p) => sum + p.wallMs, 0);
    return { totalMs: this.totalMs, passes, otherMs: Math.max(0, this.totalMs - passTotal) };
  }

  /** The report as a table. */
  report(): string {
    const data = this.toJSON();
    const total = Math.max(data.totalMs, 1e-9);
    const seconds = (ms: number): string => (ms / 1000).toFixed(4).padStart(8);
    const percent = (ms: number): string => `(${((100 * ms) / total).toFixed(1).padStart(5)}%)`;
    const rule = '===' + '-'.repeat(73) + '===';
    const lines = [
      rule,
      '... Pass execution timing report ...'.padStart(55),
      rule,
      `  Total Execution Time: ${(data.totalMs / 1000).toFixed(4)} seconds`,
      '',
      '  ----Wall Time----  --Runs--  ----Name----',
    ];
    for (const p of data.passes) lines.push(`  ${seconds(p.wallMs)} ${percent(p.wallMs)}  ${String(p.runs).padStart(8)}  ${p.pass}`);
    lines.push(`  ${seconds(data.otherMs)} ${percent(data.otherMs)}  ${''.padStart(8)}  (verification and instrumentation)`);
    lines.push(`  ${seconds(data.totalMs)} ${percent(data.totalMs)}  ${''.padStart(8)}  Total`);
    return lines.join('\n') + '\n';
  }
}
