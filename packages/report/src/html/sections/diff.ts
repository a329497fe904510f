/** The graph diff: counts of added/removed/changed nodes and initializers, then every change in tables. */
import type { ChangedNode, ModelDiff, Report } from '../../schema.js';
import { notComparableText } from '../../not-comparable.js';
import { CHART_COLORS, type ChartSpec } from '../chart-spec.js';
import { formatMetric } from '../format.js';
import { chartFigure, num, paragraph, table } from '../html-parts.js';
import type { ReportSection } from '../section.js';

function changedNodeSummary(node: ChangedNode): string {
  const parts: string[] = [];
  if (node.renamedTo !== undefined) parts.push(`renamed to ${node.renamedTo}`);
  if (node.opAfter !== undefined) parts.push(`op ${node.op} → ${node.opAfter}`);
  for (const attribute of node.attributes) parts.push(`${attribute.name}: ${attribute.before ?? '(absent)'} → ${attribute.after ?? '(absent)'}`);
  for (const input of node.inputs) parts.push(`input ${input.index}: ${input.before ?? '(none)'} → ${input.after ?? '(none)'}`);
  return parts.join('; ') || '–';
}

function countsChart(diff: ModelDiff): ChartSpec {
  const kinds = ['added', 'removed', 'changed', 'unchanged'] as const;
  const count = (part: ModelDiff['nodes'] | ModelDiff['initializers'], kind: (typeof kinds)[number]) => (kind === 'unchanged' ? part.unchanged : part[kind].length);
  return {
    id: 'chart-diff-counts',
    kind: 'bar',
    title: 'Graph diff: nodes and initializers by kind of change',
    labels: [...kinds],
    datasets: [
      { label: 'nodes', values: kinds.map((kind) => count(diff.nodes, kind)), color: CHART_COLORS.after },
      { label: 'initializers', values: kinds.map((kind) => count(diff.initializers, kind)), color: CHART_COLORS.before },
    ],
    valueAxis: 'count',
    min: 0,
  };
}

export const diffSection: ReportSection = {
  key: 'diff',
  title: 'Graph diff',
  render(report: Report) {
    const diff = report.diff;
    if (!diff) return undefined;
    const { nodes, initializers } = diff;
    const parts: string[] = [];
    const chart = countsChart(diff);
    const summary = table(
      'Changes by kind',
      ['kind', 'nodes', 'initializers'],
      (['added', 'removed', 'changed'] as const).map((kind) => [kind, num(String(nodes[kind].length)), num(String(initializers[kind].length))]).concat([['unchanged', num(String(nodes.unchanged)), num(String(initializers.unchanged))]]),
    );
    parts.push(chartFigure(chart, summary));
    const nodeRow = (node: { name: string; op: string; inputs: readonly string[]; outputs: readonly string[] }) => [node.name, node.op, node.inputs.join(', ') || '–', node.outputs.join(', ') || '–'];
    if (nodes.added.length > 0) parts.push(table('Nodes added', ['node', 'op', 'inputs', 'outputs'], nodes.added.map(nodeRow), 'nodes'));
    if (nodes.removed.length > 0) parts.push(table('Nodes removed', ['node', 'op', 'inputs', 'outputs'], nodes.removed.map(nodeRow), 'nodes'));
    if (nodes.changed.length > 0) {
      parts.push(table('Nodes changed', ['node', 'op', 'matched by', 'changes'], nodes.changed.map((node) => [node.name, node.op, node.matchedBy, changedNodeSummary(node)]), 'nodes'));
    }
    if (nodes.added.length + nodes.removed.length + nodes.changed.length === 0) parts.push(paragraph('No node was added, removed or changed.'));
    const tensorRow = (t: { name: string; dtype: string; shape: readonly number[] }) => [t.name, t.dtype, `[${t.shape.join(', ')}]`];
    if (initializers.added.length > 0) parts.push(table('Initializers added', ['initializer', 'dtype', 'shape'], initializers.added.map(tensorRow), 'initializers'));
    if (initializers.removed.length > 0) parts.push(table('Initializers removed', ['initializer', 'dtype', 'shape'], initializers.removed.map(tensorRow), 'initializers'));
    if (initializers.changed.length > 0) {
      parts.push(
        table(
          'Initializers changed',
          ['initializer', 'dtype', 'shape', 'max abs error', 'max rel error', 'cosine'],
          initializers.changed.map((t) => [
            t.name,
            t.dtypeAfter !== undefined ? `${t.dtype} → ${t.dtypeAfter}` : t.dtype,
            `[${t.shape.join(', ')}]${t.shapeAfter ? ` → [${t.shapeAfter.join(', ')}]` : ''}`,
            ...(t.shapeAfter ? ['not compared (shape changed)', '–', '–'] : [num(formatMetric(t.maxAbsError)), num(formatMetric(t.maxRelError)), num(formatMetric(t.cosine))]),
          ]),
          'initializers',
        ),
      );
    }
    for (const [which, io] of [['inputs', diff.graphInputs], ['outputs', diff.graphOutputs]] as const) {
      const rows = [
        ...io.added.map((v) => ['added', v.name, '–', v.type]),
        ...io.removed.map((v) => ['removed', v.name, v.type, '–']),
        ...io.changed.map((v) => ['changed', v.name, v.before, v.after]),
      ];
      if (rows.length > 0) parts.push(table(`Graph ${which} changed`, ['change', 'name', 'before', 'after'], rows));
    }
    if (diff.tensors) {
      const t = diff.tensors;
      parts.push(
        table(
          `Intermediate tensors on the same inputs (${t.engine}, ${t.compared} compared, atol ${t.atol}, rtol ${t.rtol}${t.firstDivergent !== undefined ? `, first divergent: ${t.firstDivergent}` : ''})`,
          ['tensor', 'node', 'op', 'max abs error', 'max rel error', 'cosine', 'within tolerance'],
          t.tensors.map((row) => [row.name, row.node, row.op, ...(row.shapeChange ? [notComparableText(row)!, '–', '–'] : [num(formatMetric(row.maxAbsError)), num(formatMetric(row.maxRelError)), num(formatMetric(row.cosine))]), row.withinTolerance ? 'yes' : { text: 'NO', className: 'bad' }]),
          'tensors',
        ),
      );
    }
    return { html: parts.join('\n'), charts: [chart] };
  },
};
