/**
 * The in-graph histogram's two ways of counting (int16 bin indices counted in JavaScript, and
 * ORT's ScatterElements) give the same counts, widths and summaries run by run — on values that are
 * negative, zero, huge, tiny, all zero, and Relu outputs — and the JavaScript counting loop itself
 * matches a plain one-by-one count whatever the view's offset and length.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { StatisticsGraph, defaultHistogramCounting, type TensorSummary } from '../index.js';
import { countBinIndices, countableByMask } from '../calibration/bin-index-counts.js';

afterAll(() => disposeSharedOrtRunner());

describe('countBinIndices', () => {
  it('counts every index at index mod length, for any offset and length of the view', () => {
    const buffer = new ArrayBuffer(2 * 1001);
    const all = new Int16Array(buffer);
    let state = 3;
    for (let i = 0; i < all.length; i++) all[i] = ((state = (state * 1103515245 + 12345) % 2 ** 31) % 64) - 32;
    all[7] = -32768;
    all[8] = 32767;
    for (const [start, end] of [[0, 1001], [1, 1001], [1, 1000], [0, 0], [3, 4], [2, 999]] as const) {
      const view = all.subarray(start, end);
      const counts = new Int32Array(64);
      countBinIndices(view, counts);
      const expected = new Int32Array(64);
      for (const v of view) expected[((v % 64) + 64) % 64]!++;
      expect(Array.from(counts)).toEqual(Array.from(expected));
    }
  });

  it('takes powers of two up to 65536 only', () => {
    expect([2, 4096, 65536].map(countableByMask)).toEqual([true, true, true]);
    expect([0, 1, 3, 4095, 131072].map(countableByMask)).toEqual([false, false, false, false, false]);
    expect(defaultHistogramCounting(2048)).toBe('indices');
    expect(defaultHistogramCounting(1000)).toBe('scatter');
  });
});

/** x → y = x · s → r = Relu(y): s scales a batch to huge or tiny values, r holds zeros and positives only. */
function scaledModel(): Model {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', ['N', 16]));
  const s = g.input('s', tensorType('float32', [1]));
  const y = g.op1('onnx.Mul', [x, s], {}, { outputs: ['y'], types: [tensorType('float32', ['N', 16])] });
  const r = g.op1('onnx.Relu', [y], {}, { outputs: ['r'], types: [tensorType('float32', ['N', 16])] });
  g.output(r);
  return g.model({ onnx: 17 });
}

function comparable(summaries: Map<string, TensorSummary>) {
  return [...summaries].map(([name, s]) => ({ name, min: s.min, max: s.max, sum: s.sum, size: s.size, width: s.width, firstBin: s.firstBin, counts: Array.from(s.counts!) }));
}

describe('indices counting equals ScatterElements counting', () => {
  it('on negative, zero, huge, tiny and Relu-only values, with widths carried from run to run', async () => {
    const model = scaledModel();
    const tensors = ['x', 'y', 'r'].map((name) => model.graph.getValue(name)!);
    const indices = await StatisticsGraph.open(model, tensors, 2048, 'indices');
    const scatter = await StatisticsGraph.open(model, tensors, 2048, 'scatter');
    try {
      let state = 11;
      const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
      const batch = (rows: number, zeros: boolean) => Float32Array.from({ length: rows * 16 }, (_, k) => (zeros && k % 3 === 0 ? 0 : next()));
      const parts: [Float32Array, number][] = [
        [new Float32Array(32), 1], // all zero: width 0
        [batch(2, true), 1e-3],
        [batch(5, true), -7.25],
        [batch(3, false), 1e30], // huge: the width jumps
        [batch(4, true), 2 ** -90], // tiny after huge: counted at the wide width, all in the bins next to zero
        [batch(1, false), -3e36],
      ];
      const widths = new Map<string, number>();
      for (const [values, scale] of parts) {
        const feeds = new Map([
          ['x', Tensor.fromValues('float32', [values.length / 16, 16], values)],
          ['s', Tensor.fromValues('float32', [1], [scale])],
        ]);
        const ours = comparable(await indices.run(feeds, widths));
        const theirs = comparable(await scatter.run(feeds, widths));
        expect(ours).toEqual(theirs);
        for (const s of ours) {
          expect(s.counts.reduce((a, b) => a + b, 0)).toBe(s.size);
          const magnitude = Math.max(-s.min, s.max);
          if (magnitude > 0) expect(magnitude).toBeLessThan(2048 * s.width!);
          else expect(s.width).toBe(0);
          widths.set(s.name, s.width!);
        }
        expect(indices.lastRunBytes).toBeGreaterThanOrEqual(3 * 2 * values.length);
      }
      expect(indices.counting).toBe('indices');
      expect(widths.get('y')).toBeGreaterThan(1e33 / 2048);
    } finally {
      await indices.dispose();
      await scatter.dispose();
    }
  }, 60_000);

  it("refuses 'indices' counting for bins it cannot mask", async () => {
    const model = scaledModel();
    await expect(StatisticsGraph.open(model, [model.graph.getValue('x')!], 1000, 'indices')).rejects.toThrow(/power of two/);
  });
});
