/** Accuracy and latency before and after, and the output comparison of two models. */
import type { OutputsCheck, Report } from '../../schema.js';
import { notComparableText } from '../../not-comparable.js';
import { CHART_COLORS, type ChartDataset, type ChartSpec } from '../chart-spec.js';
import { formatMetric, formatMs, formatPercent } from '../format.js';
import { chartFigure, num, table } from '../html-parts.js';
import type { ReportSection } from '../section.js';

type Side = 'before' | 'after';
const SIDES: readonly Side[] = ['before', 'after'];

function beforeAfterChart(id: string, title: string, axis: string, values: Partial<Record<Side, number>>, max?: number): ChartSpec {
  const sides = SIDES.filter((side) => values[side] !== undefined);
  // One dataset per side with a gap elsewhere, so each side keeps its colour and legend entry.
  const datasets: ChartDataset[] = sides.map((side) => ({
    label: side,
    values: sides.map((other) => (other === side ? values[side]! : null)),
    color: side === 'before' ? CHART_COLORS.before : CHART_COLORS.after,
  }));
  return { id, kind: 'bar', title, labels: sides, datasets, valueAxis: axis, min: 0, ...(max !== undefined ? { max } : {}) };
}

/** Rows of an output comparison (also used by the passes section for `--check`). */
export function outputsCheckTable(caption: string, check: OutputsCheck): string {
  return table(
    `${caption} (${check.engine}, atol ${check.atol}, rtol ${check.rtol})`,
    ['output', 'max abs error', 'max rel error', 'cosine', 'top-1 agreement', 'mismatched', 'within tolerance'],
    check.outputs.map((o) => [
      o.name,
      // An output that changed shape or is missing has no element-wise error to show.
      ...(notComparableText(o) !== undefined ? [notComparableText(o)!, '–', '–'] : [num(formatMetric(o.maxAbsError)), num(formatMetric(o.maxRelError)), num(formatMetric(o.cosine))]),
      num(o.top1Agreement === null ? '–' : formatPercent(o.top1Agreement, 2)),
      num(`${o.mismatchedElements} / ${o.elementCount}`),
      o.withinTolerance ? 'yes' : { text: 'NO', className: 'bad' },
    ]),
    'outputs',
  );
}

export const accuracyLatencySection: ReportSection = {
  key: 'accuracy-latency',
  title: 'Accuracy and latency',
  render(report: Report) {
    const parts: string[] = [];
    const charts: ChartSpec[] = [];
    const accuracy = report.accuracy;
    if (accuracy && (accuracy.before || accuracy.after)) {
      const values = { ...(accuracy.before ? { before: accuracy.before.top1 * 100 } : {}), ...(accuracy.after ? { after: accuracy.after.top1 * 100 } : {}) };
      const spec = beforeAfterChart('chart-accuracy', 'Top-1 accuracy (%)', '%', values, 100);
      charts.push(spec);
      const rows = SIDES.flatMap((side) => {
        const figure = accuracy[side];
        return figure ? [[side, num(formatPercent(figure.top1, 2)), num(String(figure.samples)), figure.dataset]] : [];
      });
      parts.push(chartFigure(spec, table('Top-1 accuracy', ['model', 'top-1', 'samples', 'dataset'], rows)));
    }
    const latency = report.latency;
    if (latency && (latency.before || latency.after)) {
      const values = { ...(latency.before ? { before: latency.before.medianMs } : {}), ...(latency.after ? { after: latency.after.medianMs } : {}) };
      const spec = beforeAfterChart('chart-latency', 'Median latency per run (ms)', 'ms', values);
      charts.push(spec);
      const rows = SIDES.flatMap((side) => {
        const figure = latency[side];
        return figure
          ? [[side, num(formatMs(figure.medianMs)), num(figure.p90Ms === undefined ? '–' : formatMs(figure.p90Ms)), num(String(figure.runs)), num(figure.batch === undefined ? '–' : String(figure.batch)), figure.engine]]
          : [];
      });
      parts.push(chartFigure(spec, table('Latency', ['model', 'median', 'p90', 'runs', 'batch', 'engine'], rows)));
    }
    if (report.comparison) parts.push(outputsCheckTable('Outputs compared', report.comparison));
    if (parts.length === 0) return undefined;
    return { html: parts.join('\n'), charts };
  },
};
