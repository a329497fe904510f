/**
 * Counts kept across runs (`StatisticsGraph.runKeeping`, s16): a calibration's histogram counts stay in
 * the WebAssembly counter (or the JavaScript loop's buffer) while a tensor's width stays, and reach its
 * `HistogramStatistics` when the width grows and at the end — the same histograms, bit for bit, as
 * adding every run's counts at once (`run` + `addBinned`). The counter adds runs to runs and counts
 * runs of zero indices without incrementing each; the runs' index buffers are freed once counted.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { HistogramStatistics, StatisticsGraph } from '../index.js';
import { countBinIndices } from '../calibration/bin-index-counts.js';
import { releaseArrayBuffer } from '../calibration/buffer-release.js';
import { WasmBinCounter } from '../calibration/wasm-bin-counter.js';

afterAll(() => disposeSharedOrtRunner());

function expectedCounts(parts: readonly Int16Array[], length: number): number[] {
  const counts = new Float64Array(length);
  for (const part of parts) countBinIndices(part, counts);
  return Array.from(counts);
}

describe('WasmBinCounter.add / take', () => {
  it('adds runs to runs until taken, then starts from zero; runs of zero indices at any alignment count', () => {
    const counter = WasmBinCounter.create(2, 4096)!;
    let state = 5;
    const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31);
    // Runs of 0 of every length 1–40 (some covering whole 8-index loads, some not), between random indices.
    const run = (size: number) => {
      const indices = new Int16Array(size);
      for (let i = 0; i < size; ) {
        const zeros = next() % 41;
        for (let k = 0; k < zeros && i < size; k++) indices[i++] = 0;
        if (i < size) indices[i++] = (next() % 4096) - 2048;
      }
      return indices;
    };
    const runs = [run(1000), run(4097), run(9), run(70_000)];
    const taken: number[][] = [];
    const buffer = new Int16Array(70_003);
    for (const [k, indices] of runs.entries()) {
      buffer.set(indices, k % 3); // at 0, 2 and 4 bytes from the buffer's start
      counter.add(0, buffer.subarray(k % 3, (k % 3) + indices.length));
      counter.add(1, indices);
    }
    counter.take(0, (counts) => taken.push(Array.from(counts)));
    counter.take(1, (counts) => taken.push(Array.from(counts)));
    expect(taken[0]).toEqual(expectedCounts(runs, 4096));
    expect(taken[1]).toEqual(expectedCounts(runs, 4096));
    expect(taken[0]![0]).toBeGreaterThan(50_000);
    counter.add(0, runs[2]!);
    counter.take(0, (counts) => taken.push(Array.from(counts)));
    expect(taken[2]).toEqual(expectedCounts([runs[2]!], 4096));
    const allZero = new Int16Array(4096 * 8 + 5);
    expect(Array.from(counter.countAll([allZero, runs[1]!])[0]!.subarray(0, 2))).toEqual([allZero.length, 0]);
  });
});

/** x → y = x · s → r = Relu(y): s scales a run's values, so widths grow from run to run. */
function scaledModel(): Model {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', ['N', 16]));
  const s = g.input('s', tensorType('float32', [1]));
  const y = g.op1('onnx.Mul', [x, s], {}, { outputs: ['y'], types: [tensorType('float32', ['N', 16])] });
  const r = g.op1('onnx.Relu', [y], {}, { outputs: ['r'], types: [tensorType('float32', ['N', 16])] });
  g.output(r);
  return g.model({ onnx: 17 });
}

/** Runs of the scaled model: all zero, small, the same width again, wider, then narrower values. */
function scaledRuns(): Map<string, Tensor>[] {
  let state = 7;
  const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const runs: [number, number][] = [[0, 2], [1e-3, 3], [1e-3, 5], [1e-3, 1], [-40, 4], [2, 3], [3e5, 2], [1, 6]];
  return runs.map(([scale, rows]) => new Map([
    ['x', Tensor.fromValues('float32', [rows, 16], Float32Array.from({ length: rows * 16 }, (_, k) => (k % 3 === 0 ? 0 : next())))],
    ['s', Tensor.fromValues('float32', [1], [scale])],
  ]));
}

/** Each tensor's histogram after every run: counts kept across runs (`runKeeping`), or added run by run. */
async function histograms(keeping: boolean, breakCounter?: (graph: StatisticsGraph) => void): Promise<unknown[]> {
  const model = scaledModel();
  const names = ['x', 'y', 'r'];
  const graph = await StatisticsGraph.open(model, names.map((name) => model.graph.getValue(name)!), 2048, 'indices');
  breakCounter?.(graph);
  const statistics = new Map(names.map((name) => [name, new HistogramStatistics(2048)]));
  const widthOf = (name: string) => Math.max(statistics.get(name)!.width, graph.keptWidth(name));
  try {
    for (const feeds of scaledRuns()) {
      const widths = new Map(names.map((name) => [name, widthOf(name)]));
      if (keeping) {
        const run = await graph.runKeeping(feeds, widths);
        for (const [name, s] of run.summaries) {
          statistics.get(name)!.addExtremes(s.min, s.max, s.size);
          run.keep(name, statistics.get(name)!);
        }
        run.release();
      } else {
        for (const [name, s] of await graph.run(feeds, widths)) statistics.get(name)!.addBinned(s.width!, s.counts!, s.min, s.max, s.size, s.firstBin, s.size);
      }
    }
    graph.flush();
    return names.map((name) => statistics.get(name)!.toJSON());
  } finally {
    await graph.dispose();
  }
}

describe('StatisticsGraph.runKeeping', () => {
  it('gives the histograms of adding each run at once: widths growing, staying and all-zero runs', async () => {
    const expected = await histograms(false);
    expect(await histograms(true)).toEqual(expected);
    // y's width grew from ~2^-21 (the 1e-3 runs, kept at one width) to past 100 (the 3e5 run): counts were kept at several widths.
    expect((expected[1] as { width: number }).width).toBeGreaterThan(100);
  }, 60_000);

  it('gives the same where the counter cannot hold a run (the JavaScript loop keeps that tensor from then on)', async () => {
    const expected = await histograms(false);
    const failing = (graph: StatisticsGraph) => {
      const counter = (graph as unknown as { counter: WasmBinCounter }).counter;
      let calls = 0;
      const add = counter.add.bind(counter);
      counter.add = (t: number, indices: Int16Array) => {
        if (++calls === 7) throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
        add(t, indices);
      };
    };
    expect(await histograms(true, failing)).toEqual(expected);
  }, 60_000);

  it('keeps nothing for a tensor not kept, and refuses keep() after release()', async () => {
    const model = scaledModel();
    const graph = await StatisticsGraph.open(model, [model.graph.getValue('y')!], 2048, 'indices');
    try {
      const feeds = scaledRuns()[1]!;
      const run = await graph.runKeeping(feeds, new Map());
      expect(run.summaries.get('y')!.counts).toBeUndefined();
      run.release();
      expect(graph.keptWidth('y')).toBe(0);
      expect(() => run.keep('y', new HistogramStatistics(2048))).toThrow(/after release/);
    } finally {
      await graph.dispose();
    }
  }, 60_000);
});

describe('releaseArrayBuffer', () => {
  it('frees a buffer now (its views read empty) and leaves memories it cannot detach', () => {
    const before = process.memoryUsage().arrayBuffers;
    const buffer = new ArrayBuffer(64 * 2 ** 20);
    const view = new Uint8Array(buffer).fill(1);
    expect(process.memoryUsage().arrayBuffers - before).toBeGreaterThanOrEqual(64 * 2 ** 20);
    expect(releaseArrayBuffer(buffer)).toBe(true);
    expect(view.length).toBe(0);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(2 ** 20);
    const memory = new WebAssembly.Memory({ initial: 1 });
    expect(releaseArrayBuffer(memory.buffer)).toBe(false);
    expect(memory.buffer.byteLength).toBe(65536);
    expect(releaseArrayBuffer(new SharedArrayBuffer(8))).toBe(false);
  });
});
