/**
 * Entropy's KL search (`entropyThreshold`) against the same sum written plainly: the level edges
 * ⌊(level + 1)·i/levels⌋ by a division per level, each level's ln(count / non-empty) computed where it
 * is used, one loop over all levels with the last (the folded outliers) as a branch. The search keeps
 * these per (start, span), steps the edges in integers and takes the last level out of the loop (s16,
 * for a cheaper cold search); the thresholds must stay the same bit for bit (Object.is), on histograms
 * whose level counts divide the candidates unevenly (3, 7, 100, 127 levels) as well as 128 and 256.
 */
import { describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { HistogramStatistics, entropyThreshold } from '../index.js';

/** The candidate of least KL, every term computed where it is used (the s15 search without its cache). */
function plainLeastDivergenceBins(magnitudes: Float64Array, levels: number): number {
  const counts = Float64Array.from(magnitudes);
  if (counts.length > 1) counts[0] = counts[1]!;
  let used = counts.length;
  while (used > 0 && counts[used - 1] === 0) used--;
  if (used <= levels) return used;
  const countsBelow = new Float64Array(used + 1);
  const nonEmptyBelow = new Float64Array(used + 1);
  const xLogXBelow = new Float64Array(used + 1);
  const xLogX = (x: number) => (x > 0 ? x * Math.log(x) : 0);
  for (let b = 0; b < used; b++) {
    countsBelow[b + 1] = countsBelow[b]! + counts[b]!;
    nonEmptyBelow[b + 1] = nonEmptyBelow[b]! + (counts[b]! > 0 ? 1 : 0);
    xLogXBelow[b + 1] = xLogXBelow[b]! + xLogX(counts[b]!);
  }
  const total = countsBelow[used]!;
  const floor = Math.log(1e-12);
  let best = Infinity;
  let bestBins = used;
  for (let i = levels; i <= used; i++) {
    if (countsBelow[i] === 0) continue;
    const last = counts[i - 1]! + (total - countsBelow[i]!);
    const logKept = Math.log(countsBelow[i]!);
    let divergence = (xLogXBelow[i - 1]! + xLogX(last)) / total - Math.log(total);
    let start = 0;
    for (let level = 0; level < levels; level++) {
      const end = Math.floor(((level + 1) * i) / levels);
      const sum = countsBelow[end]! - countsBelow[start]!;
      if (end === i) {
        const nonEmpty = nonEmptyBelow[end]! - nonEmptyBelow[start]! + (counts[i - 1] === 0 && last > 0 ? 1 : 0);
        if (nonEmpty > 0) {
          const logQ = sum > 0 ? Math.max(Math.log(sum / nonEmpty) - logKept, floor) : floor;
          divergence -= ((sum + last - counts[i - 1]!) / total) * logQ;
        }
      } else if (sum > 0) {
        divergence -= (sum / total) * Math.max(Math.log(sum / (nonEmptyBelow[end]! - nonEmptyBelow[start]!)) - logKept, floor);
      }
      start = end;
    }
    if (divergence < best) {
      best = divergence;
      bestBins = i;
    }
  }
  return bestBins;
}

/** Seeded uniform numbers in [0, 1). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Values of several shapes: Relu-like with zeros and outliers, sparse spikes, heavy tails, signed. */
function sample(seed: number, count = 60_000): Float32Array {
  const next = random(seed);
  const values = new Float32Array(count);
  const shape = seed % 4;
  for (let k = 0; k < count; k++) {
    const gaussian = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    if (shape === 0) values[k] = next() < 0.4 ? 0 : next() < 0.001 ? 10 + 5 * next() : Math.abs(gaussian);
    else if (shape === 1) values[k] = Math.floor(gaussian * 30) * 0.05; // a comb: most bins empty between the teeth
    else if (shape === 2) values[k] = gaussian / (0.05 + next());
    else values[k] = gaussian * (k % 3 === 0 ? 4 : 1);
  }
  return values;
}

describe('entropy KL search', () => {
  const levelCounts = [3, 7, 100, 127, 128, 256];
  it.each([0, 1, 2, 3, 4, 5, 6, 7])('chooses the plain sum\'s threshold bit for bit (values seed %i)', (seed) => {
    for (const bins of [300, 2048]) {
      const histogram = new HistogramStatistics(bins).add(sample(seed));
      const { min, max } = histogram.extremes.range();
      const largest = Math.max(-min, max);
      let clipped = 0;
      for (const levels of levelCounts) {
        const expected = Math.min(largest, plainLeastDivergenceBins(histogram.magnitudes(), levels) * histogram.width);
        const threshold = entropyThreshold(histogram, levels);
        expect(Object.is(threshold, expected), `${bins} bins, ${levels} levels: ${threshold} ≠ ${expected}`).toBe(true);
        if (threshold < largest) clipped++;
      }
      // Most searches clip: the comparison is not only of the "nothing clipped" answer.
      expect(clipped).toBeGreaterThanOrEqual(3);
    }
  });

  it('refuses a level count that is not a positive integer, naming it', () => {
    const histogram = new HistogramStatistics(64).add(sample(1, 1000));
    for (const levels of [0, 2.5, Number.NaN]) {
      expect(() => entropyThreshold(histogram, levels)).toThrow(ModelpassError);
      expect(() => entropyThreshold(histogram, levels)).toThrow(/quantizedBins must be an integer ≥ 1/);
    }
  });
});
