/**
 * A streaming histogram of a tensor's values whose merge is exact.
 *
 * Values are counted in `2·bins` bins of one width w, a power of two, centred on zero: bin j holds
 * x in [(j − bins)·w, (j − bins + 1)·w), so bins [bins, 2·bins) hold x ≥ 0 and bins [0, bins) hold
 * x < 0. The width is the smallest power of two with max|x| < bins·w. When a larger magnitude
 * arrives the width doubles and neighbouring bins are added pairwise (deterministic re-binning), so
 * memory stays `2·bins` counts whatever the number of samples, and there is one pass over the data.
 *
 * x/w is exact (w is a power of two), so a value's bin is floor(x/w) + bins, and after k doublings
 * floor(floor(x/w)/2^k) = floor(x/(2^k·w)): re-binning puts every value where counting it at the
 * final width would have. The final width depends only on the largest magnitude seen and counts are
 * integers, so histograms filled on shards of the data and merged (each coarsened to the wider
 * width, then added) equal bit for bit the histogram of one run over all of it, in any order. The
 * price: the data span between bins/2 and bins bins on each side, so the resolution is between
 * max|x|/bins and 2·max|x|/bins.
 *
 * Why floor and not ONNX's QuantizeLinear (one vectorized int16 pass in ORT, which the in-graph
 * histogram could use instead of Mul + Floor + Cast): it rounds half to even. Bins centred on
 * multiples of w never nest, and round-half-even(fl32(x − w/2)/w) — edges at multiples of w — equals
 * floor(x/w) except for x an exact odd multiple of w (one bin lower), x in [−2^−25·w, 0) (bin 0, the
 * subtraction rounds to −w/2) and x = −(1 − 2^−24)·w (bin −2); the first breaks nesting: x = 2w is in
 * bin 2 at w (2 is even) but in bin 0 at 2w (1 is odd), while 2.5w is in bins 2 and 1. Widths could
 * then no longer double nor shards merge exactly (s11, `tools/bench/quantize/calibration-quantizelinear.mjs`).
 */
import { finiteExtremes, MinMaxStatistics, type MinMaxStatisticsJSON } from './minmax-statistics.js';
import { partStart, partStride } from './histogram-sampling.js';
import { distributionRange, entropyRange, percentileRange, withCoverage } from './histogram-ranges.js';
import { CALIBRATION_DEFAULTS, calibrationError, type CalibrationMethod, type TensorRange } from './options.js';

/** How `HistogramStatistics.range` chooses (defaults as in `CalibrationOptions`). */
export interface HistogramRangeOptions {
  readonly percentile?: number | undefined;
  readonly symmetric?: boolean | undefined;
  readonly quantizedBins?: number | undefined;
  readonly stdDevs?: number | undefined;
  readonly minCoverage?: number | undefined;
}

/** The smallest width used: below every float32 magnitude / 2^16 bins, so never reached in practice. */
const MIN_WIDTH = 2 ** -160;

export interface HistogramStatisticsJSON {
  readonly kind: 'histogram';
  /** Bins on each side of zero. */
  readonly bins: number;
  /** 0 until a non-zero value was seen. */
  readonly width: number;
  /** Index of the first count in `counts` (empty bins before and after are left out). */
  readonly offset: number;
  readonly counts: readonly number[];
  readonly extremes: MinMaxStatisticsJSON;
  /** Sampled histograms only (absent: every value counted): the stride and the values seen so far (see `histogram-sampling.ts`). */
  readonly stride?: number;
  readonly position?: number;
}

/** The smallest power of two `w` ≥ MIN_WIDTH with `magnitude < bins · w`. */
function widthFor(magnitude: number, bins: number): number {
  let width = Math.max(MIN_WIDTH, 2 ** Math.floor(Math.log2(magnitude / bins)));
  while (magnitude >= bins * width) width *= 2;
  while (width / 2 >= MIN_WIDTH && magnitude < bins * (width / 2)) width /= 2;
  return width;
}

/** Counts re-binned to `factor` (a power of two) times the width: bin j goes to floor((j − bins)/factor) + bins. */
function coarsened(counts: Float64Array, bins: number, factor: number): Float64Array {
  const out = new Float64Array(counts.length);
  for (let j = 0; j < counts.length; j++) {
    const count = counts[j]!;
    if (count !== 0) out[Math.floor((j - bins) / factor) + bins]! += count;
  }
  return out;
}

export class HistogramStatistics {
  /** `2·bins` counts; see the module comment for the bin edges. */
  private bucketCounts: Float64Array;
  /** The exact min/max and the number of finite and non-finite values seen. */
  readonly extremes = new MinMaxStatistics();
  private binWidth = 0;
  private limit = 0;
  private inverseWidth = 0;
  /** Values seen so far, NaN and ±Infinity included: where the next batch starts in the numbering sampling uses. */
  private seenValues = 0;

  /**
   * `bins`: bins on each side of zero. `stride`: count 1 in `stride` values of batches large enough
   * (1: every value; see `histogram-sampling.ts` for which values) — min, max and counts of values
   * stay over all of them.
   */
  constructor(readonly bins = 2048, readonly stride = 1) {
    if (!Number.isInteger(bins) || bins < 2 || bins > 1 << 24) {
      throw calibrationError({ reason: `histogram bins must be an integer in [2, 16777216]`, actual: String(bins) });
    }
    if (!Number.isInteger(stride) || stride < 1) {
      throw calibrationError({ reason: 'histogram stride must be an integer ≥ 1', actual: String(stride) });
    }
    this.bucketCounts = new Float64Array(2 * bins);
  }

  /** Values seen so far (every value of every batch added, NaN and ±Infinity included). */
  get position(): number {
    return this.seenValues;
  }

  /** The index of the next batch's first counted value, were it sampled (0 without a stride). */
  get nextStart(): number {
    return this.stride === 1 ? 0 : partStart(this.seenValues, this.stride);
  }

  /** Which values of the next batch of `size` values are counted: every `stride`-th from `start`. */
  sampling(size: number): { stride: number; start: number } {
    const stride = partStride(size, this.stride);
    return { stride, start: stride === 1 ? 0 : partStart(this.seenValues, stride) };
  }

  /** The counts (read-only view): bin j holds x in [(j − bins)·w, (j − bins + 1)·w). */
  get counts(): Float64Array {
    return this.bucketCounts;
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
    const width = widthFor(magnitude, this.bins);
    if (width <= this.binWidth) return;
    if (this.binWidth !== 0) this.bucketCounts = coarsened(this.bucketCounts, this.bins, width / this.binWidth);
    this.setWidth(width);
  }

  /**
   * Adds one batch of values (NaN and ±Infinity are skipped and counted in `extremes.nonFinite`): all
   * of them, or with a stride the ones `sampling` names (the width still holds every finite value).
   */
  add(values: ArrayLike<number>): this {
    const { stride, start } = this.sampling(values.length);
    this.seenValues += values.length;
    return stride === 1 ? this.addEvery(values) : this.addSampled(values, stride, start);
  }

  /** Counts every value of a batch. */
  private addEvery(values: ArrayLike<number>): this {
    const bins = this.bins;
    let counts = this.bucketCounts;
    // Before the first non-zero value the limit is the smallest positive number: 0 fits, anything else grows.
    let limit = this.binWidth === 0 ? Number.MIN_VALUE : this.limit;
    let inverseWidth = this.inverseWidth;
    let min = Infinity;
    let max = -Infinity;
    let nonFinite = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v - v !== 0) {
        nonFinite++;
        continue;
      }
      if (v < min) min = v;
      if (v > max) max = v;
      if (v >= limit || v <= -limit) {
        this.grow(Math.abs(v));
        counts = this.bucketCounts;
        limit = this.limit;
        inverseWidth = this.inverseWidth;
      }
      // One branch-free index for both signs (a sign branch mispredicts on conv outputs).
      counts[Math.floor(v * inverseWidth) + bins]!++;
    }
    this.extremes.addBatchSummary(min, max, values.length - nonFinite, nonFinite);
    return this;
  }

  /** Counts values `start`, `start + stride`, … of a batch, at the width that holds all of its finite values (as the graph does). */
  private addSampled(values: ArrayLike<number>, stride: number, start: number): this {
    const extremes = finiteExtremes(values);
    if (extremes) {
      const magnitude = Math.max(-extremes.min, extremes.max);
      if (magnitude > 0 && (this.binWidth === 0 || magnitude >= this.limit)) this.grow(magnitude);
    }
    const bins = this.bins;
    const counts = this.bucketCounts;
    const inverseWidth = this.inverseWidth;
    for (let i = start; i < values.length; i += stride) {
      const v = values[i]!;
      if (v - v !== 0) continue;
      counts[Math.floor(v * inverseWidth) + bins]!++;
    }
    const finite = extremes?.finite ?? 0;
    this.extremes.addBatchSummary(extremes?.min ?? Infinity, extremes?.max ?? -Infinity, finite, values.length - finite);
    return this;
  }

  /**
   * Adds one batch already counted elsewhere (the in-graph histogram of calibration): `counts` are
   * `2·bins` counts at `width` (a power of two at least this histogram's width, or 0 while every
   * value was 0), and the batch's finite min, max and count. `firstBin`: `counts[k]` holds bin
   * (k + firstBin) mod 2·bins (0: the same order as `counts`). Exact, as `merge` is. `size`: the
   * batch's values (the numbering of sampling moves on by it; every one finite unless said).
   * With a stride, `counts` must hold the values `sampling(size)` names. The same as `addExtremes`
   * and `addCounts`, which take the two halves apart (counts of several batches at one width at once).
   */
  addBinned(width: number, counts: ArrayLike<number>, min: number, max: number, finite: number, firstBin = 0, size = finite): this {
    this.addCounts(width, counts, firstBin);
    return this.addExtremes(min, max, finite, size);
  }

  /**
   * Adds one batch's min, max and value counts (`finite` of its `size` values), whose bins are added
   * apart with `addCounts`: the numbering of sampling moves on by `size` (`nextStart`).
   */
  addExtremes(min: number, max: number, finite: number, size = finite): this {
    this.seenValues += size;
    this.extremes.addBatchSummary(min, max, finite, size - finite);
    return this;
  }

  /**
   * Adds bins counted elsewhere, of one or more batches whose extremes `addExtremes` adds: `2·bins`
   * counts at `width` (a power of two at least this histogram's width, or 0), `counts[k]` being bin
   * (k + firstBin) mod 2·bins. Exact: counts at a narrower width are coarsened to the wider one.
   */
  addCounts(width: number, counts: ArrayLike<number>, firstBin = 0): this {
    this.checkCounts(width, counts, firstBin);
    const length = this.bucketCounts.length;
    if (width > this.binWidth) {
      if (this.binWidth !== 0) this.bucketCounts = coarsened(this.bucketCounts, this.bins, width / this.binWidth);
      this.setWidth(width);
    }
    const mine = this.bucketCounts;
    const wrap = length - firstBin;
    for (let k = 0; k < wrap; k++) mine[k + firstBin]! += counts[k]!;
    for (let k = wrap; k < length; k++) mine[k - wrap]! += counts[k]!;
    return this;
  }

  private checkCounts(width: number, counts: ArrayLike<number>, firstBin: number): void {
    const length = this.bucketCounts.length;
    if (counts.length !== length || (width !== 0 && (width < this.binWidth || !Number.isInteger(Math.log2(width)))) || !Number.isInteger(firstBin) || firstBin < 0 || firstBin >= length) {
      throw calibrationError({ reason: 'binned counts do not fit this histogram', expected: `${length} counts at a power-of-two width ≥ ${this.binWidth}, first bin in [0, ${length})`, actual: `${counts.length} counts at width ${width}, first bin ${firstBin}` });
    }
  }

  /**
   * Adds another shard's histogram; the result equals one run over both shards' values (sampled
   * histograms: each shard sampled its values from its own start, so the counts equal one run's
   * where the first shard's size is a multiple of the stride).
   */
  merge(other: HistogramStatistics): this {
    if (other.bins !== this.bins) {
      throw calibrationError({ reason: 'histograms with different bin counts cannot be merged', expected: `${this.bins} bins`, actual: `${other.bins} bins` });
    }
    if (other.stride !== this.stride) {
      throw calibrationError({ reason: 'histograms sampled at different strides cannot be merged', expected: `stride ${this.stride}`, actual: `stride ${other.stride}`, hint: 'collect every shard with the same histogramStride' });
    }
    this.seenValues += other.seenValues;
    const width = Math.max(this.binWidth, other.binWidth);
    const mine = width > this.binWidth && this.binWidth !== 0 ? coarsened(this.bucketCounts, this.bins, width / this.binWidth) : this.bucketCounts;
    const theirs = width > other.binWidth && other.binWidth !== 0 ? coarsened(other.bucketCounts, this.bins, width / other.binWidth) : other.bucketCounts;
    for (let j = 0; j < mine.length; j++) mine[j]! += theirs[j]!;
    this.bucketCounts = mine;
    if (width > this.binWidth) this.setWidth(width);
    this.extremes.merge(other.extremes);
    return this;
  }

  /** Counts of |x| by bin k, |x| in [k·w, (k+1)·w) for x ≥ 0 and (k·w, (k+1)·w] for x < 0. */
  magnitudes(): Float64Array {
    const { bins } = this;
    const counts = new Float64Array(bins);
    for (let k = 0; k < bins; k++) counts[k] = this.bucketCounts[bins + k]! + this.bucketCounts[bins - 1 - k]!;
    return counts;
  }

  /** The range `method` chooses from this histogram. */
  range(method: CalibrationMethod, options: HistogramRangeOptions = {}): TensorRange {
    return HISTOGRAM_RANGES[method](this, options);
  }

  toJSON(): HistogramStatisticsJSON {
    let start = 0;
    let end = this.bucketCounts.length;
    while (start < end && this.bucketCounts[start] === 0) start++;
    while (end > start && this.bucketCounts[end - 1] === 0) end--;
    return {
      kind: 'histogram',
      bins: this.bins,
      width: this.binWidth,
      offset: start,
      counts: Array.from(this.bucketCounts.subarray(start, end)),
      extremes: this.extremes.toJSON(),
      ...(this.stride > 1 ? { stride: this.stride, position: this.seenValues } : {}),
    };
  }

  static fromJSON(json: HistogramStatisticsJSON): HistogramStatistics {
    const widthValid = json?.width === 0 || (Number.isFinite(json?.width) && json.width > 0 && Number.isInteger(Math.log2(json.width)));
    const valid =
      json?.kind === 'histogram' &&
      Number.isInteger(json.bins) && json.bins >= 2 && json.bins <= 1 << 24 &&
      widthValid &&
      Number.isInteger(json.offset) && json.offset >= 0 &&
      Array.isArray(json.counts) && json.offset + json.counts.length <= 2 * json.bins &&
      json.counts.every((c) => Number.isInteger(c) && c >= 0) &&
      (json.stride === undefined || (Number.isInteger(json.stride) && json.stride >= 1)) &&
      (json.position === undefined || (Number.isInteger(json.position) && json.position >= 0));
    if (!valid) {
      throw calibrationError({ reason: 'not histogram statistics JSON', expected: "{ kind: 'histogram', bins, width (a power of two or 0), offset, counts, extremes, stride?, position? }", actual: JSON.stringify(json)?.slice(0, 120) });
    }
    const histogram = new HistogramStatistics(json.bins, json.stride ?? 1);
    histogram.seenValues = json.position ?? 0;
    histogram.bucketCounts.set(json.counts, json.offset);
    if (json.width > 0) histogram.setWidth(json.width);
    histogram.extremes.merge(MinMaxStatistics.fromJSON(json.extremes));
    return histogram;
  }
}

/** The coverage guard of `entropy` and `distribution` (see `CalibrationOptions.minCoverage`). */
function coverageOf(options: HistogramRangeOptions): { percentile: number; symmetric: boolean } {
  return { percentile: options.minCoverage ?? CALIBRATION_DEFAULTS.minCoverage, symmetric: options.symmetric ?? false };
}

/** How each method chooses a range from a histogram: a table, so a new method is one entry. */
const HISTOGRAM_RANGES: Readonly<Record<CalibrationMethod, (histogram: HistogramStatistics, options: HistogramRangeOptions) => TensorRange>> = {
  minmax: (histogram) => histogram.extremes.range(),
  percentile: (histogram, options) => percentileRange(histogram, options.percentile ?? CALIBRATION_DEFAULTS.percentile, options.symmetric ?? false),
  entropy: (histogram, options) => withCoverage(histogram, entropyRange(histogram, options.quantizedBins ?? CALIBRATION_DEFAULTS.quantizedBins), coverageOf(options)),
  distribution: (histogram, options) => withCoverage(histogram, distributionRange(histogram, options.stdDevs ?? CALIBRATION_DEFAULTS.stdDevs), coverageOf(options)),
};
