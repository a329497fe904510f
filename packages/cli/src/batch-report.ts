/**
 * `modelpass batch --report FILE`: the batch's outcomes as a file — JSON (`.json`, schema
 * `modelpass-batch-report/1`, documented in the CLI README) or a static HTML page (`.html`: one
 * table, no scripts). Written whole or not at all, also when models failed.
 */
import { statSync } from 'node:fs';
import { extname } from 'node:path';
import type { BatchOutcome } from '@modelpass/distributed';
import { writeFileAtomic } from '@modelpass/ir';
import { UsageError } from './usage-error.js';

export const BATCH_REPORT_SCHEMA = 'modelpass-batch-report/1';

export interface BatchReportModel {
  readonly input: string;
  /** Size of the input file (null when it could not be read). */
  readonly inputBytes: number | null;
  readonly status: 'converted' | 'failed';
  /** The written output (null when the model failed: nothing is written). */
  readonly output: string | null;
  readonly outputBytes: number | null;
  /** The error's message (null when converted). */
  readonly error: string | null;
  readonly nodesBefore: number | null;
  readonly nodesAfter: number | null;
  readonly warnings: readonly string[];
  /** Seconds the conversion took on its worker (null when the job never ran, e.g. a worker lost twice). */
  readonly seconds: number | null;
  /** `host:pid` of the worker that ran it (null when unknown). */
  readonly worker: string | null;
}

export interface BatchReport {
  readonly schema: typeof BATCH_REPORT_SCHEMA;
  readonly pipeline: string;
  /** Where the jobs ran (`in-process`, `bullmq redis://… queue '…'`). */
  readonly backend: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Wall-clock seconds of the whole batch. */
  readonly seconds: number;
  readonly summary: { readonly models: number; readonly converted: number; readonly failed: number };
  readonly models: readonly BatchReportModel[];
}

const REPORT_FORMATS = new Map<string, (report: BatchReport) => string>([
  ['.json', (report) => `${JSON.stringify(report, null, 2)}\n`],
  ['.html', (report) => renderBatchReportHtml(report)],
]);

/** The writer for `file`'s extension, or a usage error naming the ones there are (checked before converting). */
export function batchReportWriter(file: string): (report: BatchReport) => void {
  const render = REPORT_FORMATS.get(extname(file).toLowerCase());
  if (!render) throw new UsageError(`--report '${file}': the report is written as ${[...REPORT_FORMATS.keys()].join(' or ')} (by the file's extension)`);
  return (report) => writeFileAtomic(file, render(report));
}

function fileSize(path: string): number | null {
  try {
    return statSync(path).size;
  } catch {
    return null;
  }
}

export function buildBatchReport(options: { pipeline: string; backend: string; started: Date; finished: Date; outcomes: readonly BatchOutcome[] }): BatchReport {
  const models = options.outcomes.map((o): BatchReportModel => ({
    input: o.input,
    inputBytes: fileSize(o.input),
    status: o.ok ? 'converted' : 'failed',
    output: o.ok ? o.output : null,
    outputBytes: o.ok ? o.bytes ?? fileSize(o.output) : null,
    error: o.ok ? null : o.error ?? 'unknown error',
    nodesBefore: o.nodesBefore ?? null,
    nodesAfter: o.nodesAfter ?? null,
    warnings: o.warnings ?? [],
    seconds: o.seconds ?? null,
    worker: o.worker ?? null,
  }));
  const converted = models.filter((m) => m.status === 'converted').length;
  return {
    schema: BATCH_REPORT_SCHEMA,
    pipeline: options.pipeline,
    backend: options.backend,
    startedAt: options.started.toISOString(),
    finishedAt: options.finished.toISOString(),
    seconds: (options.finished.getTime() - options.started.getTime()) / 1000,
    summary: { models: models.length, converted, failed: models.length - converted },
    models,
  };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderBatchReportHtml(report: BatchReport): string {
  const cell = (value: string | number | null) => `<td>${value === null ? '' : escapeHtml(String(value))}</td>`;
  const rows = report.models.map((m) => [
    `<tr class="${m.status}">`, cell(m.input), cell(m.status), cell(m.nodesBefore === null ? null : `${m.nodesBefore} → ${m.nodesAfter}`),
    cell(m.inputBytes), cell(m.outputBytes), cell(m.seconds === null ? null : m.seconds.toFixed(2)), cell(m.worker), `<td><pre>${escapeHtml(m.error ?? m.warnings.join('\n'))}</pre></td>`, '</tr>',
  ].join(''));
  const { models, converted, failed } = report.summary;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>modelpass batch report</title>',
    '<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}tr.failed{background:#fde8e8}pre{margin:0;white-space:pre-wrap}</style>',
    '</head><body>',
    `<h1>modelpass batch: ${converted} of ${models} models converted${failed ? `, ${failed} failed` : ''}</h1>`,
    `<p>Pipeline <code>${escapeHtml(report.pipeline)}</code> on ${escapeHtml(report.backend)}, ${escapeHtml(report.startedAt)} – ${escapeHtml(report.finishedAt)} (${report.seconds.toFixed(1)} s)</p>`,
    '<table><thead><tr><th>model</th><th>result</th><th>nodes</th><th>input bytes</th><th>output bytes</th><th>seconds</th><th>worker</th><th>error / warnings</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table></body></html>',
    '',
  ].join('\n');
}
