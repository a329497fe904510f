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
  // Signed order: negative bins from the most negative up, then positive bins.
  const ordered = new Float64Array(2 * bins);
  for (let k = 0; k < bins; k++) {
    ordered[bins - 1 - k] = histogram.negative[k]!;
    ordered[bins + k] = histogram.positive[k]!;
  }
  const lowEdge = (i: number) => (i < bins ? -(bins - i) * width : (i - bins) * width);
  const cut = (100 - percentile) / 200;
  const low = quantile(ordered, lowEdge, width, cut);
  const high = quantile(ordered, lowEdge, width, 1 - cut);
  return { min: Math.min(Math.max(min, low), max), max: Math.max(Math.min(max, high), min) };
}

/** KL(p ‖ q) of two unnormalized distributions, a zero q under a non-zero p counting as q = 1e-12. */
function klDivergence(p: Float64Array, pTotal: number, q: Float64Array, qTotal: number, length: number): number {
  let divergence = 0;
  for (let i = 0; i < length; i++) {
    const pi = p[i]!;
    if (pi === 0) continue;
    const pn = pi / pTotal;
    const qn = Math.max(q[i]! / qTotal, 1e-12);
    divergence += pn * Math.log(pn / qn);
  }
  return divergence;
}

/**
 * The magnitude threshold TensorRT's entropy calibration picks: for every candidate i from
 * `quantizedBins` up to the last non-empty bin, the reference distribution is |x|'s bins below i
 * with everything above folded into bin i−1; the candidate distribution squeezes the same bins
 * (without the fold) into `quantizedBins` levels and spreads each level evenly over the bins that
 * were non-empty in the reference. The threshold is i·w for the i with the least KL divergence.
 */
export function entropyThreshold(histogram: HistogramStatistics, quantizedBins: number): number {
  const magnitudes = histogram.magnitudes();
  const { max, min } = histogram.extremes.range();
  const largest = Math.max(Math.abs(min), Math.abs(max));
  let used = magnitudes.length;
  while (used > 0 && magnitudes[used - 1] === 0) used--;
  if (used <= quantizedBins) return largest;
  const reference = new Float64Array(used);
  const candidate = new Float64Array(used);
  let best = Infinity;
  let bestBins = used;
  let suffix = 0; // counts in bins ≥ i
  const suffixFrom = new Float64Array(used + 1);
  for (let i = used - 1; i >= 0; i--) suffixFrom[i] = (suffix += magnitudes[i]!);
  for (let i = quantizedBins; i <= used; i++) {
    reference.set(magnitudes.subarray(0, i));
    reference[i - 1]! += suffixFrom[i]!;
    const total = suffixFrom[0]!;
    let candidateTotal = 0;
    for (let level = 0; level < quantizedBins; level++) {
      const start = Math.floor((level * i) / quantizedBins);
      const end = Math.floor(((level + 1) * i) / quantizedBins);
      let sum = 0;
      let nonEmpty = 0;
      for (let b = start; b < end; b++) {
        sum += magnitudes[b]!;
        if (reference[b] !== 0) nonEmpty++;
      }
      const share = nonEmpty > 0 ? sum / nonEmpty : 0;
      for (let b = start; b < end; b++) candidate[b] = reference[b] !== 0 ? share : 0;
      candidateTotal += nonEmpty > 0 ? sum : 0;
    }
    if (candidateTotal === 0) continue;
    const divergence = klDivergence(reference, total, candidate, candidateTotal, i);
    if (divergence < best) {
      best = divergence;
      bestBins = i;
    }
  }
  return Math.min(largest, bestBins * histogram.width);
}

/** `entropy`: the seen range clipped to the KL-optimal magnitude threshold. */
export function entropyRange(histogram: HistogramStatistics, quantizedBins: number): TensorRange {
  requireValues(histogram, 'entropy');
  if (histogram.width === 0) return histogram.extremes.range();
  if (quantizedBins > histogram.bins) {
    throw calibrationError({ reason: `entropy calibration needs more histogram bins than quantized bins`, expected: `bins ≥ ${quantizedBins}`, actual: `bins=${histogram.bins}` });
  }
  return clipToMagnitude(histogram, entropyThreshold(histogram, quantizedBins));
}

/** Mean and standard deviation of the values, from the bin centres (exact to within one bin width). */
export function histogramMoments(histogram: HistogramStatistics): { mean: number; std: number } {
  const { bins, width } = histogram;
  let total = 0;
  let sum = 0;
  for (let k = 0; k < bins; k++) {
    const centre = (k + 0.5) * width;
    total += histogram.positive[k]! + histogram.negative[k]!;
    sum += (histogram.positive[k]! - histogram.negative[k]!) * centre;
  }
  const mean = sum / total;
  let squares = 0;
  for (let k = 0; k < bins; k++) {
    const centre = (k + 0.5) * width;
    squares += histogram.positive[k]! * (centre - mean) ** 2 + histogram.negative[k]! * (-centre - mean) ** 2;
  }
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
