/**
 * The WebAssembly counter of the in-graph histogram's int16 bin indices gives exactly the counts of
 * the JavaScript loop (`countBinIndices`, itself checked against a one-by-one count in
 * calibration-bin-index-counts.test.ts) for every table length, index value, array length and byte
 * offset, run after run; and `StatisticsGraph` counts with it where it can.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { StatisticsGraph, type TensorSummary } from '../index.js';
import { countBinIndices } from '../calibration/bin-index-counts.js';
import { WasmBinCounter } from '../calibration/wasm-bin-counter.js';

afterAll(() => disposeSharedOrtRunner());

function expectedCounts(indices: Int16Array, length: number): number[] {
  const counts = new Float64Array(length);
  countBinIndices(indices, counts);
  return Array.from(counts);
}

describe('WasmBinCounter', () => {
  it('counts as countBinIndices does: any index, length and offset, tables cleared between calls', () => {
    let state = 17;
    const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31);
    for (const length of [4, 64, 4096, 65536]) {
      const counter = WasmBinCounter.create(3, length);
      expect(counter).toBeDefined();
      // Lengths around the 8-index vector step; runs of equal indices (Relu zeros) and the int16 ends.
      for (const size of [0, 1, 7, 8, 9, 15, 17, 1001, 70_000]) {
        const buffer = new Int16Array(size + 3);
        for (let i = 0; i < buffer.length; i++) buffer[i] = i % 4 === 0 ? 0 : (next() % 65536) - 32768;
        if (size > 5) buffer.set([-32768, 32767, -1, length - 1], 1);
        // Three views: aligned, off by one index (2 bytes) and the last `size` indices.
        const parts = [buffer.subarray(0, size), buffer.subarray(1, size + 1), buffer.subarray(3, size + 3)];
        const counted = counter!.countAll(parts);
        expect(counted.map((counts) => counts.length)).toEqual([length, length, length]);
        counted.forEach((counts, t) => expect(Array.from(counts)).toEqual(expectedCounts(parts[t]!, length)));
      }
    }
  });

  it('grows its memory for a larger run and counts it the same', () => {
    const counter = WasmBinCounter.create(1, 4096)!;
    const small = Int16Array.from({ length: 100 }, (_, i) => i);
    expect(Array.from(counter.countAll([small])[0]!)).toEqual(expectedCounts(small, 4096));
    const large = Int16Array.from({ length: 3_000_000 }, (_, i) => (i * 7919) % 5000 - 2500);
    expect(Array.from(counter.countAll([large])[0]!)).toEqual(expectedCounts(large, 4096));
    expect(Array.from(counter.countAll([small])[0]!)).toEqual(expectedCounts(small, 4096));
  });

  it('is not made for tables it cannot fold or mask', () => {
    for (const length of [2, 3, 100, 131072]) expect(WasmBinCounter.create(1, length)).toBeUndefined();
    expect(() => WasmBinCounter.create(2, 64)!.countAll([new Int16Array(4)])).toThrow(/2 tensors/);
  });
});

/** x → y = −x, both summarized by an `indices` histogram graph. */
async function negGraph(): Promise<StatisticsGraph> {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', ['N', 16]));
  const y = g.op1('onnx.Neg', [x], {}, { outputs: ['y'], types: [tensorType('float32', ['N', 16])] });
  g.output(y);
  const model = g.model({ onnx: 17 });
  return StatisticsGraph.open(model, [model.graph.getValue('x')!, model.graph.getValue('y')!], 2048, 'indices');
}

const feeds = new Map([['x', Tensor.fromValues('float32', [9, 16], Float32Array.from({ length: 16 * 9 }, (_, k) => Math.sin(k) * 3))]]);
const countsOf = (summaries: Map<string, TensorSummary>) => [...summaries.values()].map((s) => [s.width, Array.from(s.counts!)]);

describe("StatisticsGraph's indices counting", () => {
  it('counts with the WebAssembly counter (int32 counts) and sums to every value', async () => {
    const graph = await negGraph();
    try {
      const summaries = await graph.run(feeds, new Map());
      for (const summary of summaries.values()) {
        expect(summary.counts).toBeInstanceOf(Int32Array);
        expect(Array.from(summary.counts!).reduce((a, b) => a + b, 0)).toBe(16 * 9);
      }
    } finally {
      await graph.dispose();
    }
  }, 60_000);

  it("counts in JavaScript, to the same counts, a run the module's memory cannot hold; other errors pass", async () => {
    const graph = await negGraph();
    try {
      const expected = countsOf(await graph.run(feeds, new Map()));
      const internals = graph as unknown as { counter: { countAll(): never } };
      internals.counter = { countAll: () => { throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded'); } };
      const fallback = await graph.run(feeds, new Map());
      expect([...fallback.values()].every((s) => s.counts instanceof Float64Array)).toBe(true);
      expect(countsOf(fallback)).toEqual(expected);
      internals.counter = { countAll: () => { throw new TypeError('broken'); } };
      await expect(graph.run(feeds, new Map())).rejects.toThrow(/broken/);
    } finally {
      await graph.dispose();
    }
  }, 60_000);
});
