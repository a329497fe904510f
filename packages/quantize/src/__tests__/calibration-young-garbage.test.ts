import { describe, expect, it } from 'vitest';
import { YoungGarbage } from '../calibration/young-garbage.js';

describe('YoungGarbage', () => {
  it('collects at a quiet point once the threshold piled up, and at once past the limit', () => {
    const garbage = new YoungGarbage(1000, 5000);
    garbage.dropped(600);
    garbage.settle();
    expect(garbage.collections).toBe(0);
    garbage.dropped(400);
    expect(garbage.collections).toBe(0);
    garbage.settle();
    expect(garbage.collections).toBe(1);
    garbage.settle();
    expect(garbage.collections).toBe(1);
    garbage.dropped(4999);
    expect(garbage.collections).toBe(1);
    garbage.dropped(1);
    expect(garbage.collections).toBe(2);
  });

  it('frees dropped ArrayBuffers: the external bytes fall back after a collection', () => {
    const garbage = new YoungGarbage(2 ** 20, 2 ** 40);
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 32; i++) new Uint8Array(2 ** 20).fill(1);
    const piled = process.memoryUsage().arrayBuffers - before;
    garbage.dropped(32 * 2 ** 20);
    garbage.settle();
    const left = process.memoryUsage().arrayBuffers - before;
    expect(garbage.collections).toBe(1);
    expect(piled).toBeGreaterThan(16 * 2 ** 20);
    expect(left).toBeLessThan(piled / 4);
  });
});
