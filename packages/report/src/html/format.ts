/** Number formatting for the HTML report's tables and chart titles (plain text; escape before use). */
import type { ReportNumber } from '../schema.js';

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)} ${BYTE_UNITS[unit]}`;
}

/** Large counts with an SI suffix (1.23 M, 4.5 G); small ones as integers. */
export function formatCount(count: number): string {
  const magnitude = Math.abs(count);
  if (magnitude < 10_000) return Number.isInteger(count) ? String(count) : count.toPrecision(4);
  const units: readonly [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [size, suffix] of units) {
    if (magnitude >= size) return `${(count / size).toPrecision(3)} ${suffix}`;
  }
  return String(count);
}

export function formatPercent(fraction: number, digits = 1): string {
  return `${(fraction * 100).toFixed(digits)} %`;
}

export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/** A metric that may be `"Infinity"`/`"NaN"` in the JSON. */
export function formatMetric(value: ReportNumber | null | undefined): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'string') return value === 'Infinity' ? '∞' : value === '-Infinity' ? '−∞' : value;
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e4 || magnitude < 1e-3) return value.toExponential(2);
  return value.toPrecision(4);
}

/** A finite number for a chart, or undefined for `"Infinity"`/`"NaN"`/absent. */
export function finiteMetric(value: ReportNumber | null | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** `before → after` with the ratio, for summary cards. */
export function formatChange(before: number, after: number | undefined, format: (n: number) => string): string {
  if (after === undefined) return format(before);
  if (before === 0) return `${format(before)} → ${format(after)}`;
  return `${format(before)} → ${format(after)} (${(after / before).toFixed(2)}×)`;
}
