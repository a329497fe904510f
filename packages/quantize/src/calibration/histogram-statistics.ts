/**
 * A streaming histogram of a tensor's values whose merge is exact.
 *
 * Values are counted by magnitude in two histograms of `bins` bins each, one for x ≥ 0 and one for
 * x < 0, sharing a bin width w that is a power of two: bin k holds |x| in [k·w, (k+1)·w). The width
 * is the smallest power of two with max|x| < bins·w. When a larger value arrives, the width doubles
 * and neighbouring bins are added pairwise (deterministic re-binning), so memory stays `2·bins`
 * counts whatever the number of samples, and there is one pass over the data.
 *
 * Because the final width depends only on the largest magnitude seen, and counts are integers,
 * histograms filled on shards of the data and merged (each coarsened to the wider width, then
 * added) equal bit for bit the histogram of one run over all of it — in any shard order. The cost:
 * the data span between bins/2 and bins bins of the width chosen, so the resolution is max|x|/bins
 * to 2·max|x|/bins.
 */
import { MinMaxStatistics, type MinMaxStatisticsJSON } from './minmax-statistics.js';
import { distributionRange, entropyRange, percentileRange } from './histogram-ranges.js';
import { CALIBRATION_DEFAULTS, calibrationError, type CalibrationMethod, type TensorRange } from './options.js';

/** How `HistogramStatistics.range` chooses (defaults as in `CalibrationOptions`). */
export interface HistogramRangeOptions {
  readonly percentile?: number | undefined;
  readonly symmetric?: boolean | undefined;
  readonly quantizedBins?: number | undefined;
  readonly stdDevs?: number | undefined;
}

/** The smallest width used: below every float32 magnitude / 2^16 bins, so never reached in practice. */
const MIN_WIDTH = 2 ** -160;

export interface HistogramStatisticsJSON {
  readonly kind: 'histogram';
  readonly bins: number;
  /** 0 until a non-zero value was seen. */
  readonly width: number;
  /** Counts of x ≥ 0 by bin, trailing zero bins left out. */
  readonly positive: readonly number[];
  /** Counts of x < 0 by bin of |x|, trailing zero bins left out. */
  readonly negative: readonly number[];
  readonly extremes: MinMaxStatisticsJSON;
}

/** The smallest power of two `w` ≥ MIN_WIDTH with `magnitude < bins · w`. */
function widthFor(magnitude: number, bins: number): number {
  let width = Math.max(MIN_WIDTH, 2 ** Math.floor(Math.log2(magnitude / bins)));
  while (magnitude >= bins * width) width *= 2;
  while (width / 2 >= MIN_WIDTH && magnitude < bins * (width / 2)) width /= 2;
  return width;
}

/** Adds bins in groups of `factor` (a power of two), in place. */
function coarsen(counts: Float64Array, factor: number): void {
  const size = counts.length;
  for (let target = 0; target < size; target++) {
    let sum = 0;
    const start = target * factor;
    if (start < size) for (let i = start; i < Math.min(size, start + factor); i++) sum += counts[i]!;
    counts[target] = sum;
  }
}

export class HistogramStatistics {
  readonly positive: Float64Array;
  readonly negative: Float64Array;
  /** The exact min/max and the number of finite and non-finite values seen. */
  readonly extremes = new MinMaxStatistics();
  private binWidth = 0;
  private limit = 0;
  private inverseWidth = 0;

  constructor(readonly bins = 2048) {
    if (!Number.isInteger(bins) || bins < 2 || bins > 1 << 24) {
      throw calibrationError({ reason: `histogram bins must be an integer in [2, 16777216]`, actual: String(bins) });
    }
    this.positive = new Float64Array(bins);
    this.negative = new Float64Array(bins);
  }

  /** The bin width (a power of two), 0 while every value seen was 0. */
  get width(): number {
    return this.binWidth;
  }

  /** Finite values counted. */
  get count(): number {
    return this.extremes.count;
  }

  private setWidth(width: number): void {
    this.binWidth = width;
    this.limit = this.bins * width;
    this.inverseWidth = 1 / width;
  }

  /** Widens until `magnitude` fits, re-binning what was counted. */
  private grow(magnitude: number): void {
    if (magnitude === 0) return;
    const width = widthFor(magnitude, this.bins);
    if (this.binWidth !== 0 && width > this.binWidth) {
      const factor = width / this.binWidth;
      coarsen(this.positive, factor);
      coarsen(this.negative, factor);
    }
    if (width > this.binWidth) this.setWidth(width);
  }

  /** Counts one batch of values (NaN and ±Infinity are skipped and counted in `extremes.nonFinite`). */
  add(values: ArrayLike<number>): this {
    const { positive, negative } = this;
    let limit = this.limit;
    let inverseWidth = this.inverseWidth;
    let min = Infinity;
    let max = -Infinity;
    let finite = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v - v !== 0) continue;
      finite++;
      if (v < min) min = v;
      if (v > max) max = v;
      const magnitude = Math.abs(v);
      if (magnitude >= limit && magnitude !== 0) {
        this.grow(magnitude);
        limit = this.limit;
        inverseWidth = this.inverseWidth;
      }
      // magnitude·(1/w) is exact (w is a power of two) and below `bins` ≤ 2^24, so `| 0` is floor.
      if (v >= 0) positive[(v * inverseWidth) | 0]!++;
      else negative[(magnitude * inverseWidth) | 0]!++;
    }
    this.extremes.addBatchSummary(min, max, finite, values.length - finite);
    return this;
  }

  /** Adds another shard's histogram; the result equals one run over both shards' values. */
  merge(other: HistogramStatistics): this {
    if (other.bins !== this.bins) {
      throw calibrationError({ reason: 'histograms with different bin counts cannot be merged', expected: `${this.bins} bins`, actual: `${other.bins} bins` });
    }
    const width = Math.max(this.binWidth, other.binWidth);
    if (width > this.binWidth && this.binWidth !== 0) {
      coarsen(this.positive, width / this.binWidth);
      coarsen(this.negative, width / this.binWidth);
    }
    const otherPositive = Float64Array.from(other.positive);
    const otherNegative = Float64Array.from(other.negative);
    if (width > other.binWidth && other.binWidth !== 0) {
      coarsen(otherPositive, width / other.binWidth);
      coarsen(otherNegative, width / other.binWidth);
    }
    for (let i = 0; i < this.bins; i++) {
      this.positive[i]! += otherPositive[i]!;
      this.negative[i]! += otherNegative[i]!;
    }
    if (width > this.binWidth) this.setWidth(width);
    this.extremes.merge(other.extremes);
    return this;
  }

  /** Counts of |x| by bin (positive and negative added). */
  magnitudes(): Float64Array {
    const counts = new Float64Array(this.bins);
    for (let i = 0; i < this.bins; i++) counts[i] = this.positive[i]! + this.negative[i]!;
    return counts;
  }

  /** The range `method` chooses from this histogram. */
  range(method: CalibrationMethod, options: HistogramRangeOptions = {}): TensorRange {
    switch (method) {
      case 'minmax':
        return this.extremes.range();
      case 'percentile':
        return percentileRange(this, options.percentile ?? CALIBRATION_DEFAULTS.percentile, options.symmetric ?? false);
      case 'entropy':
        return entropyRange(this, options.quantizedBins ?? CALIBRATION_DEFAULTS.quantizedBins);
      case 'distribution':
        return distributionRange(this, options.stdDevs ?? CALIBRATION_DEFAULTS.stdDevs);
    }
  }

  toJSON(): HistogramStatisticsJSON {
    const trimmed = (counts: Float64Array): number[] => {
      let end = counts.length;
      while (end > 0 && counts[end - 1] === 0) end--;
      return Array.from(counts.subarray(0, end));
    };
    return {
      kind: 'histogram',
      bins: this.bins,
      width: this.binWidth,
      positive: trimmed(this.positive),
      negative: trimmed(this.negative),
      extremes: this.extremes.toJSON(),
    };
  }

  static fromJSON(json: HistogramStatisticsJSON): HistogramStatistics {
    const countsValid = (counts: unknown): counts is number[] =>
      Array.isArray(counts) && counts.length <= json.bins && counts.every((c) => Number.isInteger(c) && c >= 0);
    const widthValid = json?.width === 0 || (Number.isFinite(json?.width) && json.width > 0 && Number.isInteger(Math.log2(json.width)));
    if (json?.kind !== 'histogram' || !Number.isInteger(json.bins) || !widthValid || !countsValid(json.positive) || !countsValid(json.negative)) {
      throw calibrationError({ reason: 'not histogram statistics JSON', expected: "{ kind: 'histogram', bins, width (a power of two or 0), positive, negative, extremes }", actual: JSON.stringify(json)?.slice(0, 120) });
    }
    const histogram = new HistogramStatistics(json.bins);
    histogram.positive.set(json.positive);
    histogram.negative.set(json.negative);
    if (json.width > 0) histogram.setWidth(json.width);
    const extremes = MinMaxStatistics.fromJSON(json.extremes);
    histogram.extremes.merge(extremes);
    return histogram;
  }
}
