/**
 * What the page draws: data-only chart descriptions, computed from the report in Node and read by
 * the page's script (`page-script.ts`), which turns each into a Chart.js configuration. Nothing in
 * a spec is code; labels are drawn on a canvas as text.
 */

/** `bar`: vertical bars; `horizontal-bar`: one row per label; `timeline`: floating bars `[start, end]`. */
export type ChartKind = 'bar' | 'horizontal-bar' | 'timeline';

export interface ChartDataset {
  readonly label: string;
  /** One value per label; `null` draws nothing for that label. For a timeline: `[start, end]`. */
  readonly values: readonly (number | null | readonly [number, number])[];
  /** Opaque `#rrggbb`: the page test finds the bars by this colour. */
  readonly color: string;
}

export interface ChartSpec {
  /** Element id of the canvas (unique in the page). */
  readonly id: string;
  readonly kind: ChartKind;
  /** Accessible name of the canvas; the table beside it holds the same numbers. */
  readonly title: string;
  readonly labels: readonly string[];
  readonly datasets: readonly ChartDataset[];
  /** Axis title of the value axis (`bytes`, `%`, `dB`, `ms`). */
  readonly valueAxis: string;
  /** Value axis on a log scale (sizes that span orders of magnitude). */
  readonly logarithmic?: boolean;
  /** Smallest and largest value shown on the value axis. */
  readonly min?: number;
  readonly max?: number;
}

/** The report's palette: before, after, and single-series colours (opaque, distinguishable). */
export const CHART_COLORS = {
  before: '#7b8fc7',
  after: '#e0783e',
  single: '#3f9f7f',
  warning: '#c8414b',
} as const;

/** Most bars one chart draws; the table beside it lists every row. */
export const MAX_CHART_BARS = 60;

/** Canvas height for a chart with `rows` rows (horizontal charts grow with their labels). */
export function chartHeight(spec: ChartSpec): number {
  if (spec.kind === 'bar') return 280;
  return Math.min(1400, 70 + 22 * spec.labels.length * Math.max(1, spec.datasets.length * 0.75));
}

/** True when some dataset has a non-zero value to draw (an all-zero chart would look empty). */
export function hasVisibleData(datasets: readonly ChartDataset[]): boolean {
  return datasets.some((dataset) =>
    dataset.values.some((value) => (Array.isArray(value) ? value[1] > value[0] : typeof value === 'number' && value !== 0)),
  );
}
