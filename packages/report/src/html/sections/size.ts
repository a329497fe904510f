/** Where the bytes are: constant data by dtype and by the op that reads it, before and after. */
import type { ModelSummary, Report } from '../../schema.js';
import { CHART_COLORS, MAX_CHART_BARS, hasVisibleData, type ChartDataset, type ChartSpec } from '../chart-spec.js';
import { formatBytes, formatCount } from '../format.js';
import { chartFigure, num, paragraph, table } from '../html-parts.js';
import type { ReportSection } from '../section.js';

/** The unit a byte chart's axis uses: the largest that keeps its biggest value at or above 1. */
function byteUnit(largest: number): { readonly name: string; readonly size: number } {
  if (largest >= 1024 * 1024) return { name: 'MiB', size: 1024 * 1024 };
  if (largest >= 1024) return { name: 'KiB', size: 1024 };
  return { name: 'bytes', size: 1 };
}

/** Keys of both maps, the largest (before + after) first. */
function keysBySize(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>> | undefined): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after ?? {})]);
  return [...keys].sort((a, b) => (before[b] ?? 0) + (after?.[b] ?? 0) - ((before[a] ?? 0) + (after?.[a] ?? 0)) || a.localeCompare(b));
}

function breakdown(
  id: string,
  what: string,
  before: Readonly<Record<string, number>>,
  after: Readonly<Record<string, number>> | undefined,
): { html: string; chart?: ChartSpec } {
  const keys = keysBySize(before, after);
  const shownKeys = keys.slice(0, MAX_CHART_BARS);
  const largest = Math.max(0, ...keys.map((k) => Math.max(before[k] ?? 0, after?.[k] ?? 0)));
  const unit = byteUnit(largest);
  const scaled = (map: Readonly<Record<string, number>>) => shownKeys.map((k) => (map[k] === undefined ? null : map[k]! / unit.size));
  const datasets: ChartDataset[] = [{ label: after ? 'before' : 'model', values: scaled(before), color: after ? CHART_COLORS.before : CHART_COLORS.single }];
  if (after) datasets.push({ label: 'after', values: scaled(after), color: CHART_COLORS.after });
  const headers = after ? [what, 'before', 'after', 'change'] : [what, 'bytes'];
  const rows = keys.map((k) => {
    const b = before[k] ?? 0;
    if (!after) return [k, num(formatBytes(b))];
    const a = after[k] ?? 0;
    return [k, num(formatBytes(b)), num(formatBytes(a)), num(b === 0 ? 'new' : `${(a / b).toFixed(2)}×`)];
  });
  const tableHtml = table(`Weight bytes by ${what}`, headers, rows, `${what}s`);
  if (!hasVisibleData(datasets)) return { html: paragraph(`The model holds no constant data to break down by ${what}.`) + tableHtml };
  const chart: ChartSpec = {
    id,
    kind: shownKeys.length > 8 ? 'horizontal-bar' : 'bar',
    title: `Weight bytes by ${what}${keys.length > shownKeys.length ? ` (largest ${shownKeys.length} of ${keys.length})` : ''}`,
    labels: shownKeys,
    datasets,
    valueAxis: unit.name,
  };
  return { html: chartFigure(chart, tableHtml), chart };
}

function summaryOf(report: Report): { before: ModelSummary; after?: ModelSummary } | undefined {
  return report.models;
}

export const sizeSection: ReportSection = {
  key: 'size',
  title: 'Size breakdown',
  render(report) {
    const models = summaryOf(report);
    if (!models) return undefined;
    const { before, after } = models;
    const dtype = breakdown('chart-bytes-by-dtype', 'dtype', before.bytesByDtype, after?.bytesByDtype);
    const op = breakdown('chart-bytes-by-op', 'op', before.bytesByOp, after?.bytesByOp);
    const ops = keysBySize(before.nodesByOp, after?.nodesByOp);
    const nodesTable = table(
      'Nodes by op',
      after ? ['op', 'before', 'after'] : ['op', 'nodes'],
      ops.map((o) => (after ? [o, num(formatCount(before.nodesByOp[o] ?? 0)), num(formatCount(after.nodesByOp[o] ?? 0))] : [o, num(formatCount(before.nodesByOp[o] ?? 0))])),
      'ops',
    );
    return {
      html: [dtype.html, op.html, `<details><summary>Nodes by op</summary>${nodesTable}</details>`].join('\n'),
      charts: [dtype.chart, op.chart].filter((c): c is ChartSpec => c !== undefined),
    };
  },
};
