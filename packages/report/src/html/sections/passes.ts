/** The pipeline as it ran: a timeline of the passes, their statistics and the numeric check after each. */
import { notComparableText } from '../../not-comparable.js';
import type { PassRecord, Report, ReportNumber } from '../../schema.js';
import { CHART_COLORS, MAX_CHART_BARS, type ChartSpec } from '../chart-spec.js';
import { formatMetric, formatMs } from '../format.js';
import { chartFigure, num, paragraph, table } from '../html-parts.js';
import type { ReportSection } from '../section.js';
import { outputsCheckTable } from './accuracy-latency.js';

function passLabel(pass: PassRecord): string {
  const nesting = pass.nesting && pass.nesting.length > 0 ? ` in ${pass.nesting.join(' › ')}` : '';
  return `${pass.index}. ${pass.name}${nesting}`;
}

function optionsText(options: Readonly<Record<string, unknown>>): string {
  const entries = Object.entries(options);
  if (entries.length === 0) return '–';
  return entries.map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`).join(' ');
}

function statisticsText(statistics: Readonly<Record<string, number>>): string {
  const nonZero = Object.entries(statistics).filter(([, count]) => count !== 0);
  return nonZero.length === 0 ? '–' : nonZero.map(([name, count]) => `${name} ${count}`).join(', ');
}

function worstError(pass: PassRecord): string {
  if (!pass.check) return '–';
  // An output that changed shape or went missing has no error figure: say that, not "∞".
  const reshaped = pass.check.outputs.find((o) => notComparableText(o) !== undefined);
  if (reshaped) return `${reshaped.name}: ${notComparableText(reshaped)!} (broken)`;
  // A non-finite error ("Infinity", "NaN") is the worst there is.
  let worst: ReportNumber = 0;
  for (const output of pass.check.outputs) {
    const value = output.maxAbsError;
    if (typeof worst === 'string') break;
    worst = typeof value === 'string' ? value : Math.max(worst, value);
  }
  return `${formatMetric(worst)}${pass.check.withinTolerance && pass.check.withinBudget !== false ? '' : ' (broken)'}`;
}

export const passesSection: ReportSection = {
  key: 'passes',
  title: 'Passes',
  render(report: Report) {
    if (report.passes.length === 0) return undefined;
    const parts: string[] = [];
    const charts: ChartSpec[] = [];
    // Floating bars [start, end] in run order: passes ran one after another.
    let clock = 0;
    const spans = report.passes.map((pass) => {
      const span: [number, number] = [clock, clock + pass.timeMs];
      clock += pass.timeMs;
      return span;
    });
    const shown = report.passes.slice(0, MAX_CHART_BARS);
    const spec: ChartSpec = {
      id: 'chart-pass-timeline',
      kind: 'timeline',
      title: `Pass timeline (ms from the start of the pipeline, ${formatMs(clock)} in all)${report.passes.length > shown.length ? ` — first ${shown.length} of ${report.passes.length} passes` : ''}`,
      labels: shown.map(passLabel),
      datasets: [
        {
          label: 'changed the model',
          values: shown.map((pass, i) => (pass.changed ? spans[i]! : null)),
          color: CHART_COLORS.after,
        },
        {
          label: 'changed nothing',
          values: shown.map((pass, i) => (pass.changed ? null : spans[i]!)),
          color: CHART_COLORS.before,
        },
      ],
      valueAxis: 'ms',
    };
    const hasCheck = report.passes.some((pass) => pass.check);
    const rows = report.passes.map((pass) => [
      passLabel(pass),
      optionsText(pass.options),
      num(formatMs(pass.timeMs)),
      pass.changed ? 'yes' : 'no',
      statisticsText(pass.statistics),
      ...(hasCheck ? [num(worstError(pass))] : []),
    ]);
    const passTable = table('Passes in run order', ['pass', 'options', 'time', 'changed', 'statistics', ...(hasCheck ? ['check: max abs error'] : [])], rows, 'passes');
    if (clock > 0) {
      charts.push(spec);
      parts.push(chartFigure(spec, passTable));
    } else {
      parts.push(paragraph('The passes took no measurable time.'), passTable);
    }
    for (const pass of report.passes) {
      if (pass.check && (!pass.check.withinTolerance || pass.check.withinBudget === false)) {
        parts.push(outputsCheckTable(`Check after pass ${passLabel(pass)}`, pass.check));
      }
    }
    return { html: parts.join('\n'), charts };
  },
};
