import { describe, expect, it } from 'vitest';
import { SeededRandom } from '@modelpass/runtime';

describe('SeededRandom', () => {
  it('repeats its stream for a seed and differs between seeds', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const first = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(first);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(first);
    expect(new Set(first).size).toBe(8);
  });

  it('is uniform enough: mean, range and integer buckets', () => {
    const random = new SeededRandom(7);
    let sum = 0;
    let min = 1;
    let max = 0;
    const buckets = new Array(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const x = random.nextFloat();
      sum += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
      buckets[random.integer(0, 9)]++;
    }
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    for (const count of buckets) expect(Math.abs(count - n / 10)).toBeLessThan(600); // ~6 sigma
  });

  it('derives label streams that do not depend on each other', () => {
    const x1 = SeededRandom.forLabel(1, 'x').nextUint32();
    const x2 = SeededRandom.forLabel(1, 'x').nextUint32();
    const y = SeededRandom.forLabel(1, 'y').nextUint32();
    const x3 = SeededRandom.forLabel(2, 'x').nextUint32();
    expect(x1).toBe(x2);
    expect(x1).not.toBe(y);
    expect(x1).not.toBe(x3);
  });
});
