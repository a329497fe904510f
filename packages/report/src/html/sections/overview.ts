/** The report's head: what ran on what, and the before/after figures in one glance. */
import type { ModelSummary, Report } from '../../schema.js';
import { formatBytes, formatChange, formatCount } from '../format.js';
import { facts, num, paragraph, table } from '../html-parts.js';
import { escapeHtml } from '../escape.js';
import type { ReportSection } from '../section.js';

function modelFacts(before: ModelSummary, after: ModelSummary | undefined): [string, string][] {
  const pairs: [string, string][] = [];
  if (before.fileBytes !== undefined) pairs.push(['file size', formatChange(before.fileBytes, after?.fileBytes, formatBytes)]);
  pairs.push(['weights', formatChange(before.bytes, after?.bytes, formatBytes)]);
  pairs.push(['parameters', formatChange(before.parameters, after?.parameters, formatCount)]);
  pairs.push(['nodes', formatChange(before.nodes, after?.nodes, formatCount)]);
  pairs.push(['FLOPs', formatChange(before.flops, after?.flops, formatCount)]);
  return pairs;
}

export const overviewSection: ReportSection = {
  key: 'overview',
  title: 'Overview',
  render(report) {
    const parts: string[] = [];
    const run: [string, string][] = [
      ['command', `modelpass ${report.command}`],
      ['tool', `${report.tool.name} ${report.tool.version}`],
      ['written', report.createdAt],
    ];
    if (report.check) run.push(['numeric check', report.check.status === 'passed' ? 'passed' : `FAILED${report.check.failedPass ? ` after pass ${report.check.failedPass.index} (${report.check.failedPass.name})` : ''}`]);
    parts.push(facts(run));
    if (report.pipeline !== undefined) parts.push(`<p class="pipeline">pipeline <code>${escapeHtml(report.pipeline)}</code></p>`);
    if (report.argv) parts.push(`<p class="pipeline">command line <code>${escapeHtml(['modelpass', ...report.argv].join(' '))}</code></p>`);
    if (report.models) {
      parts.push(`<h3>Model ${report.models.after ? 'before → after' : ''}</h3>`);
      parts.push(facts(modelFacts(report.models.before, report.models.after)));
      if (report.models.before.flopsAssumptions.length > 0) parts.push(paragraph(`FLOPs assume ${report.models.before.flopsAssumptions.join('; ')}.`));
    }
    if (report.inputs.length > 0) {
      parts.push(
        table(
          'Inputs the command read',
          ['path', 'role', 'format', 'bytes'],
          report.inputs.map((input) => [input.path, input.role, input.format ?? '–', num(input.bytes === undefined ? '–' : formatBytes(input.bytes))]),
        ),
      );
    }
    if (report.diagnostics && report.diagnostics.length > 0) {
      parts.push(table('Diagnostics', ['severity', 'reason', 'location'], report.diagnostics.map((d) => [d.severity, d.reason, d.location ?? '–'])));
    }
    return { html: parts.join('\n'), charts: [] };
  },
};
