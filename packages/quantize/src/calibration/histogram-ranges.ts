/**
 * Ranges chosen from a `HistogramStatistics`: percentile, entropy (KL-divergence threshold search,
 * as TensorRT's int8 entropy calibration does) and distribution (mean and standard deviation, as
 * ORT's DistributionCalibrater). Each works on the bins, never on samples, so its cost does not
 * grow with the number of samples.
 */
import type { HistogramStatistics } from './histogram-statistics.js';
import { calibrationError, type TensorRange } from './options.js';

/** `[max(min, −t), min(max, t)]`: the seen range clipped to magnitude `t`. */
function clipToMagnitude(histogram: HistogramStatistics, threshold: number): TensorRange {
  const { min, max } = histogram.extremes.range();
  return { min: Math.max(min, -threshold), max: Math.min(max, threshold) };
}

function requireValues(histogram: HistogramStatistics, method: string): void {
  if (histogram.count === 0) throw calibrationError({ reason: `${method}: no finite value was seen, so the tensor has no range` });
}

/**
 * The value below which a share `q` of the counts lies, interpolating linearly inside the bin that
 * crosses it. `counts[i]` covers `[lowEdge(i), lowEdge(i) + width]`, bins in increasing order.
 */
function quantile(counts: ArrayLike<number>, lowEdge: (bin: number) => number, width: number, q: number): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  const target = q * total;
  let below = 0;
  let last = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i]!;
    if (count === 0) continue;
    last = i;
    if (below + count >= target) return lowEdge(i) + ((target - below) / count) * width;
    below += count;
  }
  return lowEdge(last) + width;
}

/** The magnitude below which `percentile` % of |x| lies. */
export function magnitudePercentile(histogram: HistogramStatistics, percentile: number): number {
  const width = histogram.width;
  return quantile(histogram.magnitudes(), (bin) => bin * width, width, percentile / 100);
}

/**
 * `percentile`: symmetric — the range keeps `percentile` % of |x| (ORT's symmetric percentile);
 * otherwise two-sided — (100 − percentile)/2 % is cut from each tail of x.
 * The result is clipped to the values seen.
 */
export function percentileRange(histogram: HistogramStatistics, percentile: number, symmetric: boolean): TensorRange {
  requireValues(histogram, 'percentile');
  const { min, max } = histogram.extremes.range();
  if (histogram.width === 0) return { min, max };
  if (symmetric) return clipToMagnitude(histogram, magnitudePercentile(histogram, percentile));
  const { bins, width } = histogram;
  const lowEdge = (j: number) => (j - bins) * width;
  const ordered = histogram.counts;
  const cut = (100 - percentile) / 200;
  const low = quantile(ordered, lowEdge, width, cut);
  const high = quantile(ordered, lowEdge, width, 1 - cut);
  return { min: Math.min(Math.max(min, low), max), max: Math.max(Math.min(max, high), min) };
}

/** ln(1e-12): the floor of ln q (a zero q under a non-zero p counts as 1e-12). */
const LOG_SMALLEST_Q = Math.log(1e-12);

/**
 * The magnitude threshold TensorRT's entropy calibration picks: for every candidate i from
 * `quantizedBins` up to the last non-empty bin, the reference distribution p is |x|'s bins below i
 * with everything above folded into bin i−1; the candidate q squeezes the same bins (without the
 * fold) into `quantizedBins` levels and spreads each level evenly over the bins non-empty in p
 * (a zero q under a non-zero p counts as 1e-12). The threshold is i·w for the i of least KL(p ‖ q).
 */
export function entropyThreshold(histogram: HistogramStatistics, quantizedBins: number): number {
  if (!Number.isInteger(quantizedBins) || quantizedBins < 1) {
    throw calibrationError({ reason: 'entropy: quantizedBins must be an integer ≥ 1', actual: String(quantizedBins) });
  }
  const counts = histogram.magnitudes();
  // The bin at zero holds every exact zero: half of a Relu output. Counted as it is, merging it with
  // its neighbour costs ~share·ln 2 of KL, which no clipping gain outweighs, so the search never
  // passed 2·quantizedBins bins and clipped Relu outputs to a fraction of their range (fashion-resnet:
  // 87.59% → 55.89%). Like NVIDIA's pytorch-quantization, it takes its neighbour's count instead.
  if (counts.length > 1) counts[0] = counts[1]!;
  const { max, min } = histogram.extremes.range();
  const largest = Math.max(Math.abs(min), Math.abs(max));
  let used = counts.length;
  while (used > 0 && counts[used - 1] === 0) used--;
  if (used <= quantizedBins) return largest;
  return Math.min(largest, leastDivergenceBins(counts, used, quantizedBins) * histogram.width);
}

/**
 * The candidate i ∈ [quantizedBins, used] of least KL(p ‖ q) (see `entropyThreshold`); `counts` has
 * the zero bin already replaced, `used` > `quantizedBins`.
 *
 * KL is computed per level rather than per bin, from prefix sums of counts, of non-empty bins and of
 * count·ln(count): each candidate costs O(quantizedBins), the search O(bins · quantizedBins),
 * whatever the number of samples. A level's term is (count / total)·max(ln(count / non-empty) −
 * ln(kept), ln 1e-12): its share and its ln(count / non-empty) depend only on the level's bins
 * [start, end), which recur from candidate to candidate (a level spans ⌊i/quantizedBins⌋ or one more
 * bins), so both are kept per (start, end − start) and computed once (s15: 1.8–2.7× less time than a
 * ln per level and candidate). The level edges ⌊(level + 1)·i/quantizedBins⌋ are stepped in integers
 * (the span ⌊i/quantizedBins⌋, one more when the remainder carries) instead of a division per level.
 *
 * Cold, this is what a calibration pays (a fresh process runs it once per tensor), so it takes arrays
 * and numbers only, reads no property after its loops and leaves no branch of its loop untried for
 * long (`--trace-deopt`, s16: with `histogram.width` read after the loop and the last level's
 * `counts[i − 1] === 0 && last > 0`, V8 threw away its optimized code twice at the first tensor, each a
 * recompilation). The arithmetic of each candidate's KL is the one of before, term for term and in
 * the same order, so the same i wins (calibration-entropy-search.test.ts; RESULTS-calibration-memory.md).
 */
function leastDivergenceBins(counts: Float64Array, used: number, quantizedBins: number): number {
  // Prefix sums over bins [0, b): counts, non-empty bins, count·ln(count).
  const countsBelow = new Float64Array(used + 1);
  const nonEmptyBelow = new Float64Array(used + 1);
  const xLogXBelow = new Float64Array(used + 1);
  for (let b = 0; b < used; b++) {
    const count = counts[b]!;
    countsBelow[b + 1] = countsBelow[b]! + count;
    nonEmptyBelow[b + 1] = nonEmptyBelow[b]! + (count > 0 ? 1 : 0);
    xLogXBelow[b + 1] = xLogXBelow[b]! + (count > 0 ? count * Math.log(count) : 0);
  }
  const total = countsBelow[used]!;
  const logTotal = Math.log(total);
  // Per level [start, start + span), at start·spans + span: count / total, and ln(count / non-empty
  // bins) (0 for an empty level, whose share 0 skips it; NaN: not yet computed).
  const spans = Math.ceil(used / quantizedBins) + 1;
  const shares = new Float64Array((used + 1) * spans);
  const logMeans = new Float64Array((used + 1) * spans).fill(NaN);
  let best = Infinity;
  let bestBins = used;
  for (let i = quantizedBins; i <= used; i++) {
    const kept = countsBelow[i]!; // q's mass: the bins below i, without the fold
    if (kept === 0) continue;
    const lastCount = counts[i - 1]!;
    const last = lastCount + (total - kept); // bin i−1 with the outliers folded in
    const logKept = Math.log(kept);
    // Σ p ln p over the normalized p (p sums to `total`).
    let divergence = (xLogXBelow[i - 1]! + (last > 0 ? last * Math.log(last) : 0)) / total - logTotal;
    const span = Math.floor(i / quantizedBins);
    const remainder = i - span * quantizedBins;
    let start = 0;
    let carry = 0;
    // Every level but the last: [start, end), end = ⌊level·i/quantizedBins⌋ for level = 1 … quantizedBins − 1.
    for (let level = 1; level < quantizedBins; level++) {
      let end = start + span;
      carry += remainder;
      if (carry >= quantizedBins) {
        carry -= quantizedBins;
        end++;
      }
      const key = start * spans + (end - start);
      let logMean = logMeans[key]!;
      if (logMean !== logMean) {
        const sum = countsBelow[end]! - countsBelow[start]!;
        shares[key] = sum / total;
        logMeans[key] = logMean = sum > 0 ? Math.log(sum / (nonEmptyBelow[end]! - nonEmptyBelow[start]!)) : 0;
      }
      const share = shares[key]!;
      if (share !== 0) divergence -= share * Math.max(logMean - logKept, LOG_SMALLEST_Q);
      start = end;
    }
    // The last level, [start, i), holds the folded outliers (and a bin non-empty in p only through them).
    const sum = kept - countsBelow[start]!;
    const nonEmpty = nonEmptyBelow[i]! - nonEmptyBelow[start]! + (lastCount === 0 ? 1 : 0) * (last > 0 ? 1 : 0); // both compared every time: no untried path to deoptimize on
    if (nonEmpty > 0) {
      const logQ = sum > 0 ? Math.max(Math.log(sum / nonEmpty) - logKept, LOG_SMALLEST_Q) : LOG_SMALLEST_Q;
      divergence -= ((sum + last - lastCount) / total) * logQ;
    }
    if (divergence < best) {
      best = divergence;
      bestBins = i;
    }
  }
  return bestBins;
}

/**
 * `entropy`: the seen range clipped to the KL-optimal magnitude threshold. With no more non-empty
 * bins than `quantizedBins` (e.g. int16's 32768 levels over 2048 bins) there is nothing to gain by
 * clipping, and the range is the one seen.
 */
export function entropyRange(histogram: HistogramStatistics, quantizedBins: number): TensorRange {
  requireValues(histogram, 'entropy');
  if (histogram.width === 0) return histogram.extremes.range();
  return clipToMagnitude(histogram, entropyThreshold(histogram, quantizedBins));
}

/** Mean and standard deviation of the values, from the bin centres (exact to within one bin width). */
export function histogramMoments(histogram: HistogramStatistics): { mean: number; std: number } {
  const { bins, width, counts } = histogram;
  let total = 0;
  let sum = 0;
  for (let j = 0; j < counts.length; j++) {
    total += counts[j]!;
    sum += counts[j]! * (j - bins + 0.5) * width;
  }
  const mean = sum / total;
  let squares = 0;
  for (let j = 0; j < counts.length; j++) squares += counts[j]! * ((j - bins + 0.5) * width - mean) ** 2;
  return { mean, std: Math.sqrt(squares / total) };
}

/** `distribution`: mean ± `stdDevs` standard deviations, clipped to the values seen, with the mean and std. */
export function distributionRange(histogram: HistogramStatistics, stdDevs: number): TensorRange {
  requireValues(histogram, 'distribution');
  const { min, max } = histogram.extremes.range();
  if (histogram.width === 0) return { min, max, mean: 0, std: 0 };
  const { mean, std } = histogramMoments(histogram);
  return { min: Math.min(max, Math.max(min, mean - stdDevs * std)), max: Math.max(min, Math.min(max, mean + stdDevs * std)), mean, std };
}

/**
 * `range` widened to keep at least `coverage.percentile` % of the values: the union with the range
 * `percentile` chooses for that share (of |x| when `symmetric`, else cutting half the rest from each
 * tail). Percentile 0 leaves `range` as it is. Entropy's KL search and distribution's mean ± k·std
 * say nothing about how much they clip; on heavy-tailed Relu outputs both cut 1% of the values.
 */
export function withCoverage(histogram: HistogramStatistics, range: TensorRange, coverage: { percentile: number; symmetric: boolean }): TensorRange {
  if (coverage.percentile === 0 || histogram.width === 0) return range;
  const floor = percentileRange(histogram, coverage.percentile, coverage.symmetric);
  return { ...range, min: Math.min(range.min, floor.min), max: Math.max(range.max, floor.max) };
}
