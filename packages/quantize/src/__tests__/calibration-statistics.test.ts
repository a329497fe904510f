/**
 * The statistics objects on synthetic data with known answers: minmax exact, percentile against a
 * sorted array, entropy ignoring far outliers, distribution against mean/std, and merges of shards
 * equal to one run over all values, bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { HistogramStatistics, MinMaxStatistics, entropyThreshold, histogramMoments } from '../index.js';

/** Deterministic uniform [0, 1) (mulberry32). */
function uniformSource(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniform(count: number, low: number, high: number, seed = 1): Float32Array {
  const next = uniformSource(seed);
  return Float32Array.from({ length: count }, () => low + (high - low) * next());
}

function gaussian(count: number, mean: number, std: number, seed = 2): Float32Array {
  const next = uniformSource(seed);
  return Float32Array.from({ length: count }, () => mean + std * Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()));
}

/**
 * The two neighbouring order statistics numpy's (linear) percentile of a sorted copy interpolates
 * between: where the percentile falls in a gap between samples, any value in the gap is a fair answer.
 */
function sortedPercentile(values: ArrayLike<number>, percentile: number): [number, number] {
  const sorted = Float64Array.from(values).sort();
  const position = ((sorted.length - 1) * percentile) / 100;
  const below = Math.floor(position);
  return [sorted[below]!, sorted[Math.min(sorted.length - 1, below + 1)]!];
}

/** `actual` lies within one bin width of the interval [low, high]. */
function expectWithinBin(actual: number, [low, high]: [number, number], width: number): void {
  expect(actual).toBeGreaterThanOrEqual(low - width);
  expect(actual).toBeLessThanOrEqual(high + width);
}

function inBatches(values: Float32Array, size: number): Float32Array[] {
  const batches: Float32Array[] = [];
  for (let start = 0; start < values.length; start += size) batches.push(values.subarray(start, start + size));
  return batches;
}

describe('MinMaxStatistics', () => {
  it('is exact over batches and skips NaN and Infinity', () => {
    const values = gaussian(10_000, 0.3, 2);
    const statistics = new MinMaxStatistics();
    for (const batch of inBatches(values, 777)) statistics.add(batch);
    statistics.add(Float32Array.of(NaN, Infinity, -Infinity));
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(statistics.range()).toEqual({ min, max });
    expect(statistics.count).toBe(10_000);
    expect(statistics.nonFinite).toBe(3);
  });

  it('moves by the averaging constant with movingAverage, and refuses to merge then', () => {
    const statistics = new MinMaxStatistics(0.5).add(Float32Array.of(-1, 1)).add(Float32Array.of(-3, 5));
    expect(statistics.range()).toEqual({ min: -2, max: 3 });
    expect(() => statistics.merge(new MinMaxStatistics())).toThrow(ModelpassError);
  });

  it('merges shards to the whole and round-trips through JSON', () => {
    const values = uniform(5000, -4, 9);
    const whole = new MinMaxStatistics().add(values);
    const first = new MinMaxStatistics().add(values.subarray(0, 1234));
    const second = MinMaxStatistics.fromJSON(JSON.parse(JSON.stringify(new MinMaxStatistics().add(values.subarray(1234)))));
    expect(first.merge(second).toJSON()).toEqual(whole.toJSON());
  });

  it('has no range before any finite value, and rejects malformed JSON', () => {
    expect(() => new MinMaxStatistics().add(Float32Array.of(NaN)).range()).toThrow(/no finite value/);
    expect(() => new MinMaxStatistics().add(Float32Array.of(1)).range('entropy')).toThrow(/needs histogram statistics/);
    expect(() => MinMaxStatistics.fromJSON({ kind: 'minmax', min: 3, max: 1, count: 2, nonFinite: 0 })).toThrow(ModelpassError);
  });
});

describe('HistogramStatistics', () => {
  it('keeps the exact min/max of what it counted', () => {
    const values = gaussian(20_000, -1, 3);
    const histogram = new HistogramStatistics(2048);
    for (const batch of inBatches(values, 1000)) histogram.add(batch);
    expect(histogram.range('minmax')).toEqual(new MinMaxStatistics().add(values).range());
    const total = histogram.counts.reduce((a, b) => a + b, 0);
    expect(total).toBe(20_000);
  });

  it('addBinned takes counts in any rotation (firstBin) and equals counting the values', () => {
    const values = gaussian(5_000, 0.5, 2);
    const counted = new HistogramStatistics(64).add(values);
    const extremes = counted.extremes.range();
    for (const firstBin of [0, 64, 17, 127]) {
      // counts[k] holds bin (k + firstBin) mod 128, as the in-graph histogram returns them for firstBin 64.
      const rotated = Float64Array.from({ length: 128 }, (_, k) => counted.counts[(k + firstBin) % 128]!);
      const binned = new HistogramStatistics(64).addBinned(counted.width, rotated, extremes.min, extremes.max, values.length, firstBin);
      expect(binned.toJSON()).toEqual(counted.toJSON());
    }
    expect(() => new HistogramStatistics(64).addBinned(counted.width, counted.counts, 0, 1, 1, 128)).toThrow(ModelpassError);
    expect(() => new HistogramStatistics(64).addBinned(counted.width, counted.counts, 0, 1, 1, 1.5)).toThrow(/first bin/);
  });

  for (const [name, values] of [
    ['uniform', uniform(50_000, -2, 6)],
    ['gaussian with outliers', Float32Array.from([...gaussian(50_000, 0, 1), 40, -35, 60])],
  ] as const) {
    it(`percentile of ${name} matches a sorted-array percentile within one bin width`, () => {
      const histogram = new HistogramStatistics(2048);
      for (const batch of inBatches(values, 4096)) histogram.add(batch);
      for (const percentile of [99, 99.9, 99.99]) {
        const symmetric = histogram.range('percentile', { percentile, symmetric: true });
        const [low, high] = sortedPercentile(Float32Array.from(values, Math.abs), percentile);
        expectWithinBin(symmetric.max, [Math.min(low, histogram.extremes.max), Math.min(high, histogram.extremes.max)], histogram.width);
        expectWithinBin(symmetric.min, [Math.max(-high, histogram.extremes.min), Math.max(-low, histogram.extremes.min)], histogram.width);
        const twoSided = histogram.range('percentile', { percentile, symmetric: false });
        const cut = (100 - percentile) / 2;
        expectWithinBin(twoSided.max, sortedPercentile(values, 100 - cut), histogram.width);
        expectWithinBin(twoSided.min, sortedPercentile(values, cut), histogram.width);
      }
    });
  }

  it('entropy picks a threshold inside (0, max] that ignores a few far outliers', () => {
    const values = Float32Array.from([...gaussian(100_000, 0, 1, 5), 50, -45, 48]);
    const histogram = new HistogramStatistics(2048).add(values);
    const threshold = entropyThreshold(histogram, 128);
    expect(threshold).toBeGreaterThan(0);
    expect(threshold).toBeLessThanOrEqual(50);
    // Gaussian data of std 1: the KL-optimal int8 threshold lies a few std out, nowhere near the outliers.
    expect(threshold).toBeGreaterThan(2);
    expect(threshold).toBeLessThan(10);
    const range = histogram.range('entropy');
    expect(range).toEqual({ min: -threshold, max: threshold });
    // Without outliers on uniform data, nothing is worth clipping much.
    const flat = new HistogramStatistics(2048).add(uniform(100_000, 0, 1, 6));
    // More levels than non-empty bins (int16 over 2048 bins): nothing is clipped.
    expect(histogram.range('entropy', { quantizedBins: 32768 })).toEqual(histogram.extremes.range());
    const flatRange = flat.range('entropy');
    expect(flatRange.min).toBe(flat.extremes.min);
    expect(flatRange.max).toBeGreaterThan(0.9);
    expect(flatRange.max).toBeLessThanOrEqual(flat.extremes.max);
  });

  it('distribution gives the mean and std (within a bin width) and a range of mean ± 4 std clipped to what was seen', () => {
    const values = Float32Array.from([...gaussian(100_000, 1.5, 0.5, 7), 30]);
    const histogram = new HistogramStatistics(2048).add(values);
    let sum = 0;
    for (const v of values) sum += v;
    const mean = sum / values.length;
    let squares = 0;
    for (const v of values) squares += (v - mean) ** 2;
    const std = Math.sqrt(squares / values.length);
    const moments = histogramMoments(histogram);
    expect(Math.abs(moments.mean - mean)).toBeLessThanOrEqual(histogram.width);
    expect(Math.abs(moments.std - std)).toBeLessThanOrEqual(histogram.width);
    const range = histogram.range('distribution');
    expect(range.mean).toBe(moments.mean);
    expect(range.min).toBeCloseTo(Math.max(histogram.extremes.min, moments.mean - 4 * moments.std), 12);
    expect(range.max).toBeCloseTo(moments.mean + 4 * moments.std, 12);
  });

  it('merge(shard1, shard2) equals one run over both, bit for bit, in either order and through JSON', () => {
    // The second shard holds the largest magnitude, so the first must be re-binned when merged.
    const first = Float32Array.from([...gaussian(30_000, 0, 0.01, 8), 0, 0, -0]);
    const second = Float32Array.from([...gaussian(30_000, 2, 3, 9), 1e-30, NaN]);
    const whole = new HistogramStatistics(2048).add(first).add(second);
    const a = new HistogramStatistics(2048).add(first);
    const b = HistogramStatistics.fromJSON(JSON.parse(JSON.stringify(new HistogramStatistics(2048).add(second))));
    expect(a.width).toBeLessThan(b.width);
    expect(new HistogramStatistics(2048).merge(a).merge(b).toJSON()).toEqual(whole.toJSON());
    expect(new HistogramStatistics(2048).add(second).merge(new HistogramStatistics(2048).add(first)).toJSON()).toEqual(whole.toJSON());
    const merged = a.merge(b);
    for (const method of ['minmax', 'percentile', 'entropy', 'distribution'] as const) expect(merged.range(method)).toEqual(whole.range(method));
  });

  it('widening many times in place leaves every value where counting at the final width puts it', () => {
    // Batches of both signs whose magnitude grows ×3 each time: a dozen widenings by factors 2–4.
    const batches = Array.from({ length: 12 }, (_, i) => gaussian(2_000, i % 2 ? 1 : -1, 3 ** i, 20 + i));
    const histogram = new HistogramStatistics(64);
    for (const batch of batches) histogram.add(batch);
    const width = histogram.width;
    const expected = new Float64Array(128);
    for (const batch of batches) for (const v of batch) expected[Math.floor(v / width) + 64]! += 1;
    expect(Array.from(histogram.counts)).toEqual(Array.from(expected));
  });

  it('refuses to merge different bin counts and rejects malformed JSON', () => {
    expect(() => new HistogramStatistics(2048).merge(new HistogramStatistics(1024))).toThrow(/different bin counts/);
    expect(() => HistogramStatistics.fromJSON({ ...new HistogramStatistics(16).add(Float32Array.of(1)).toJSON(), width: 3 })).toThrow(ModelpassError);
  });
});
