/** The numeric check's verdict (`--check`): which pass broke the tolerance, and the first divergent node. */
import { notComparableText } from '../../not-comparable.js';
import type { Report } from '../../schema.js';
import { escapeHtml } from '../escape.js';
import { formatMetric, formatPercent } from '../format.js';
import { facts, paragraph } from '../html-parts.js';
import type { ReportSection } from '../section.js';

export const checkSection: ReportSection = {
  key: 'check',
  title: 'Numeric check',
  render(report: Report) {
    const check = report.check;
    if (!check) return undefined;
    const pairs: [string, string][] = [
      ['status', check.status],
      ['tolerance', `atol ${check.atol}, rtol ${check.rtol}`],
      ['inputs', `${check.inputs.source}${check.inputs.path !== undefined ? ` ${check.inputs.path}` : ''}${check.inputs.seed !== undefined ? ` (seed ${check.inputs.seed})` : ''}, ${check.inputs.samples} samples`],
    ];
    if (check.accuracyBudget !== undefined) pairs.push(['accuracy budget', `at most ${formatPercent(check.accuracyBudget, 2)} drop`]);
    if (check.failedPass) pairs.push(['failed after', `pass ${check.failedPass.index}: ${check.failedPass.name}`]);
    const d = check.divergence;
    if (d) {
      pairs.push(['first divergent node', `${d.node} (${d.op})${d.location !== undefined ? ` at ${d.location}` : ''}`]);
      const figures = notComparableText(d) ?? `max abs ${formatMetric(d.maxAbsError)}, max rel ${formatMetric(d.maxRelError)}, cosine ${formatMetric(d.cosine)}`;
      pairs.push(['divergent tensor', `${d.tensor}: ${figures} (${d.comparedTensors} tensors compared)`]);
    }
    if (check.reproducer !== undefined) pairs.push(['reproducer', check.reproducer]);
    const status = `<p class="status ${check.status === 'passed' ? 'good' : 'bad'}">${escapeHtml(check.status === 'passed' ? 'Every pass kept the outputs within tolerance.' : 'A pass broke the tolerance.')}</p>`;
    const notes = (check.notes ?? []).map((note) => paragraph(note));
    return { html: [status, facts(pairs), ...notes].join('\n'), charts: [] };
  },
};
