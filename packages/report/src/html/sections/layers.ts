/** Per-layer figures of the weighted nodes: sparsity, output channels kept, quantization SQNR. */
import type { LayerRecord, Report } from '../../schema.js';
import { CHART_COLORS, MAX_CHART_BARS, hasVisibleData, type ChartSpec } from '../chart-spec.js';
import { finiteMetric, formatCount, formatMetric, formatPercent } from '../format.js';
import { chartFigure, num, paragraph, table } from '../html-parts.js';
import type { ReportSection } from '../section.js';

interface LayerMetric {
  readonly id: string;
  readonly title: string;
  readonly axis: string;
  readonly min?: number;
  readonly max?: number;
  /** The layer's value, or undefined when the layer has none. */
  value(layer: LayerRecord): number | undefined;
  /** Sentence shown instead of the chart when its values say nothing (all zero, all unchanged). */
  readonly allZero: string;
  /** When the values say nothing (e.g. every channel kept): the test, and the sentence shown instead. */
  readonly uninformative?: { readonly test: (values: readonly number[]) => boolean; readonly text: string };
}

/** The per-layer charts, one per metric; a metric no layer carries draws nothing. */
const LAYER_METRICS: readonly LayerMetric[] = [
  {
    id: 'chart-layer-sparsity',
    title: 'Weight sparsity per layer (% of weights exactly zero)',
    axis: '%',
    // No fixed top: 0.7 % of incidental zeros should still show as bars.
    min: 0,
    value: (layer) => (layer.sparsity === undefined ? undefined : layer.sparsity * 100),
    allZero: 'No layer has weights that are exactly zero.',
  },
  {
    id: 'chart-layer-channels',
    title: 'Output channels kept per layer (%)',
    axis: '%',
    min: 0,
    max: 100,
    value: (layer) => (layer.channels && layer.channels.before > 0 ? (layer.channels.after / layer.channels.before) * 100 : undefined),
    allZero: 'Every layer lost all of its output channels.',
    uninformative: { test: (values) => values.every((value) => value === 100), text: 'No layer lost output channels: every layer keeps 100 %.' },
  },
  {
    id: 'chart-layer-sqnr',
    title: 'Weight quantization SQNR per layer (dB, higher is closer to float)',
    axis: 'dB',
    value: (layer) => finiteMetric(layer.quantization?.sqnrDb),
    allZero: 'Every quantized layer has an SQNR of 0 dB.',
  },
];

function layerLabel(layer: LayerRecord): string {
  return `${layer.node} (${layer.op})`;
}

function layerRow(layer: LayerRecord) {
  const q = layer.quantization;
  return [
    layer.node,
    layer.op,
    layer.weightShape ? `[${layer.weightShape.join(', ')}]` : '–',
    num(layer.parameters === undefined ? '–' : formatCount(layer.parameters)),
    num(layer.flops === undefined ? '–' : formatCount(layer.flops)),
    num(layer.sparsity === undefined ? '–' : formatPercent(layer.sparsity)),
    num(layer.channels ? `${layer.channels.after} / ${layer.channels.before}` : '–'),
    q ? `${q.dtype}${q.axis === undefined ? ' per-tensor' : ` per-channel (axis ${q.axis})`}` : '–',
    num(q ? formatMetric(q.sqnrDb) : '–'),
    num(q?.cosine === undefined ? '–' : formatMetric(q.cosine)),
  ];
}

export const layersSection: ReportSection = {
  key: 'layers',
  title: 'Per-layer figures',
  render(report: Report) {
    if (report.layers.length === 0) return undefined;
    const parts: string[] = [];
    const charts: ChartSpec[] = [];
    const layerTable = (caption: string) =>
      table(caption, ['layer', 'op', 'weight shape', 'parameters', 'FLOPs', 'sparsity', 'channels kept', 'quantization', 'SQNR (dB)', 'cosine'], report.layers.map(layerRow), 'layers');
    for (const metric of LAYER_METRICS) {
      const layers = report.layers.filter((layer) => metric.value(layer) !== undefined);
      if (layers.length === 0) continue;
      const shown = layers.slice(0, MAX_CHART_BARS);
      const spec: ChartSpec = {
        id: metric.id,
        kind: 'horizontal-bar',
        title: `${metric.title}${layers.length > shown.length ? ` — first ${shown.length} of ${layers.length} layers` : ''}`,
        labels: shown.map(layerLabel),
        datasets: [{ label: metric.axis, values: shown.map((layer) => metric.value(layer)!), color: CHART_COLORS.single }],
        valueAxis: metric.axis,
        ...(metric.min !== undefined ? { min: metric.min } : {}),
        ...(metric.max !== undefined ? { max: metric.max } : {}),
      };
      const values = table(
        metric.title,
        ['layer', metric.axis],
        layers.map((layer) => [layerLabel(layer), num(metric.value(layer)!.toFixed(2))]),
        'layers',
      );
      if (metric.uninformative?.test(layers.map((layer) => metric.value(layer)!))) {
        parts.push(paragraph(metric.uninformative.text));
        continue;
      }
      if (!hasVisibleData(spec.datasets)) {
        parts.push(paragraph(metric.allZero));
        continue;
      }
      charts.push(spec);
      parts.push(chartFigure(spec, values));
    }
    if (charts.length === 0) parts.push(paragraph('No layer carries sparsity, channel or quantization figures; the table lists the weighted layers.'));
    parts.push(layerTable('Every weighted layer after the command'));
    return { html: parts.join('\n'), charts };
  },
};
