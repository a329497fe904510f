/**
 * The in-graph histogram's two ways of counting (int16 bin indices counted in JavaScript, and
 * ORT's ScatterElements) give the same counts, widths and summaries run by run — on values that are
 * negative, zero, huge, tiny, all zero, and Relu outputs — and the JavaScript counting loop itself
 * matches a plain one-by-one count whatever the view's offset and length. Values known to be ≥ 0
 * (no Floor pass) are counted as `HistogramStatistics.add` counts them.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { disposeSharedOrtRunner, writeNpy } from '@modelpass/runtime';
import { HistogramStatistics, StatisticsGraph, collectStatistics, defaultHistogramCounting, statisticsToJSON, type TensorSummary } from '../index.js';
import { countBinIndices, countableByMask } from '../calibration/bin-index-counts.js';
import { nonNegative } from '../calibration/non-negative.js';

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
      const counts = new Float64Array(64);
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
        // The run's int16 indices (2 bytes per value and tensor) are freed once counted: only the summaries
        // (float32 min, max, sum, width and an int64 size per tensor) are left to V8.
        expect(indices.lastRunBytes).toBe(3 * (4 * 4 + 8));
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

/** x → y = x · s → r = Relu(y), a = Abs(y), m = Max(r, a), n = Neg(r), g = GlobalAveragePool(Reshape(r)): ≥ 0 are r, a, m, g. */
function signModel(): Model {
  const g = new GraphBuilder();
  const t = (shape: (number | string)[]) => ({ types: [tensorType('float32', shape)] });
  const x = g.input('x', tensorType('float32', ['N', 16]));
  const s = g.input('s', tensorType('float32', [1]));
  const y = g.op1('onnx.Mul', [x, s], {}, { outputs: ['y'], ...t(['N', 16]) });
  const r = g.op1('onnx.Relu', [y], {}, { outputs: ['r'], ...t(['N', 16]) });
  const a = g.op1('onnx.Abs', [y], {}, { outputs: ['a'], ...t(['N', 16]) });
  const m = g.op1('onnx.Max', [r, a], {}, { outputs: ['m'], ...t(['N', 16]) });
  const n = g.op1('onnx.Neg', [r], {}, { outputs: ['n'], ...t(['N', 16]) });
  const shape = g.constant(Tensor.fromValues('int64', [4], [-1n, 4n, 2n, 2n]));
  const image = g.op1('onnx.Reshape', [r, shape], {}, { outputs: ['image'], ...t(['N', 4, 2, 2]) });
  const pooled = g.op1('onnx.GlobalAveragePool', [image], {}, { outputs: ['g'], ...t(['N', 4, 1, 1]) });
  for (const output of [m, n, pooled]) g.output(output);
  return g.model({ onnx: 17 });
}

describe('values known to be ≥ 0 skip the Floor pass', () => {
  it('finds them through the ops that keep the sign', () => {
    const model = signModel();
    const known = ['x', 'y', 'r', 'a', 'm', 'n', 'image', 'g'].filter((name) => nonNegative(model.graph.getValue(name)!));
    expect(known).toEqual(['r', 'a', 'm', 'image', 'g']);
  });

  it('counts them as HistogramStatistics.add does, beside tensors that need the Floor', async () => {
    const model = signModel();
    const names = ['x', 'y', 'r', 'a', 'm', 'n', 'g'];
    const work = mkdtempSync(join(tmpdir(), 'modelpass-non-negative-test-'));
    try {
      let state = 5;
      const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
      const scales = [1, 3e-3, 250, 1e30, 2 ** -40, 7];
      const reference = new Map(names.map((name) => [name, new HistogramStatistics(2048)]));
      scales.forEach((scale, i) => {
        // Exact multiples of the bin widths too (x·s = k·w), where trunc and floor differ for negative values.
        const x = Float32Array.from({ length: 64 }, (_, k) => (k % 5 === 0 ? Math.round(next() * 8) / 8 : next()));
        mkdirSync(join(work, `test_data_set_${i}`));
        writeNpy(Tensor.fromValues('float32', [4, 16], x), join(work, `test_data_set_${i}`, 'x.npy'));
        writeNpy(Tensor.fromValues('float32', [1], [scale]), join(work, `test_data_set_${i}`, 's.npy'));
        const y = x.map((v) => Math.fround(v * scale));
        const r = y.map((v) => Math.max(v, 0));
        const a = y.map((v) => Math.abs(v));
        const g = Float32Array.from({ length: 16 }, (_, k) => Math.fround((r[4 * k]! + r[4 * k + 1]! + r[4 * k + 2]! + r[4 * k + 3]!) / 4));
        const values: Record<string, Float32Array> = { x, y, r, a, m: a, n: r.map((v) => -v), g };
        for (const name of names) reference.get(name)!.add(values[name]!);
      });
      const ours = await collectStatistics(model, names, { method: 'percentile', dataset: work, samples: 4 * scales.length, batchSize: 4, activationBudget: 2 ** 40 });
      expect(ours.collection).toEqual({ inGraph: names, fromValues: [], recollected: 0 });
      const json = statisticsToJSON(ours).tensors;
      // g is a float32 mean in ORT and here: the same sums in the same order are not guaranteed, so only its count is compared.
      for (const name of names.filter((n) => n !== 'g')) expect(json[name]).toEqual(reference.get(name)!.toJSON());
      expect((json.g as { extremes: { count: number } }).extremes.count).toBe(16 * scales.length);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);
});
