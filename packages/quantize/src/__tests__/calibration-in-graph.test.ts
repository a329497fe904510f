/**
 * Calibration statistics computed inside ONNX Runtime (min/max/sum and the histogram as ONNX ops
 * appended to the calibration copy of the model) equal, bit for bit, the statistics of the same
 * activations read out of ORT and counted in JavaScript (`ActivationCollector` + the statistics
 * classes' `add`): on fashion-resnet with real data for every method, on a model with NaN/Infinity
 * activations (recollected from the values), on models of opset 11 (int16-index histograms need no
 * ScatterElements) and 8 (histograms read from the values), and with values that widen the histogram
 * many times. The model is left as it was.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, printModel, tensorType, type Model } from '@modelpass/ir';
import { datasetBatches, disposeSharedOrtRunner, FASHION_MNIST_DIR, loadDataset, writeNpy } from '@modelpass/runtime';
import { ActivationCollector, chooseRanges, collectStatistics, histogramOpset, statisticsFromJSON, createStatistics, HistogramStatistics, MinMaxStatistics, statisticsToJSON, CALIBRATION_METHODS, type CalibrationMethod } from '../index.js';
import { readFixture } from './static-helpers.js';

if (!existsSync(FASHION_MNIST_DIR)) throw new Error(`Fashion-MNIST is missing at ${FASHION_MNIST_DIR}: run 'npm run setup'; this referee is never skipped`);
afterAll(() => disposeSharedOrtRunner());

/** The statistics of `tensors` over `batches`, every value read out of ORT and counted in JavaScript. */
async function countedInJavaScript(model: Model, tensors: readonly string[], batches: readonly Map<string, Tensor>[], method: CalibrationMethod) {
  const collector = await ActivationCollector.open(model, tensors);
  const statistics = new Map(tensors.map((name) => [name, createStatistics({ method })]));
  try {
    for (const feeds of batches) for (const [name, tensor] of await collector.run(feeds)) statistics.get(name)!.add(tensor.data() as Float32Array);
  } finally {
    await collector.dispose();
  }
  return Object.fromEntries([...statistics].map(([name, s]) => [name, s.toJSON()]));
}

describe('in-graph calibration statistics', () => {
  const model = readFixture('fashion-resnet');
  const tensors = model.graph.nodeList().filter((n) => ['onnx.Conv', 'onnx.Relu', 'onnx.Add', 'onnx.Gemm', 'onnx.GlobalAveragePool'].includes(n.op)).map((n) => n.outputs[0]!.name);
  const samples = 200;
  // Whole batches of 64 (the last one short), no budget split, so both sides see the same runs.
  const batches = [...datasetBatches(loadDataset('fashion-mnist:train', { limit: samples }), { batchSize: 64, sampleShape: [1, 28, 28] })].map((b) => new Map([['input', b.input]]));

  it.each(CALIBRATION_METHODS)('%s on fashion-resnet equals counting every value in JavaScript', async (method) => {
    const before = printModel(model);
    const ours = await collectStatistics(model, tensors, { method, dataset: 'fashion-mnist:train', samples, activationBudget: 2 ** 40 });
    expect(printModel(model)).toBe(before);
    const reference = await countedInJavaScript(model, tensors, batches, method);
    // ORT fuses and lays out the two calibration copies differently (a tensor that is a graph output
    // is never fused away), so a few activations differ in their last float32 bit between them:
    // the same element counts, extremes within 1e-6 relative, a few values in a neighbouring bin.
    let moved = 0;
    let total = 0;
    let worstExtreme = 0;
    for (const name of tensors) {
      const mine = ours.tensors.get(name)!.toJSON();
      const theirs = reference[name]!;
      const [a, b] = [mine.kind === 'minmax' ? mine : mine.extremes, theirs.kind === 'minmax' ? theirs : theirs.extremes];
      expect(a.count).toBe(b.count);
      for (const key of ['min', 'max'] as const) worstExtreme = Math.max(worstExtreme, Math.abs(a[key]! - b[key]!) / Math.max(Math.abs(a.max!), Math.abs(a.min!)));
      if (mine.kind === 'histogram' && theirs.kind === 'histogram') {
        expect(mine.width).toBe(theirs.width);
        const counts = new Map<number, number>();
        mine.counts.forEach((c, i) => counts.set(mine.offset + i, c));
        theirs.counts.forEach((c, i) => counts.set(theirs.offset + i, (counts.get(theirs.offset + i) ?? 0) - c));
        for (const d of counts.values()) moved += Math.abs(d) / 2;
        total += a.count;
      }
    }
    console.log(`${method}: extremes differ by ≤ ${worstExtreme.toExponential(2)} relative; ${moved} of ${total} values in another bin`);
    expect(worstExtreme).toBeLessThan(1e-6);
    expect(moved).toBeLessThanOrEqual(1e-5 * total);
    const ranges = chooseRanges(ours, { method, samples });
    const referenceRanges = chooseRanges(statisticsFromJSON({ method, samples, tensors: reference }), { method, samples });
    for (const [name, range] of ranges) {
      const { min, max } = referenceRanges.get(name)!;
      expect(Math.abs(range.min - min) + Math.abs(range.max - max)).toBeLessThanOrEqual(1e-4 * (max - min));
    }
    expect(ours.collection).toEqual({ inGraph: tensors, fromValues: [], recollected: 0 });
    const first = ours.tensors.get(tensors[0]!)!;
    expect(first instanceof HistogramStatistics ? first.count : (first as MinMaxStatistics).count).toBe(samples * 16 * 28 * 28);
  }, 120_000);
});

/** x → y = x · s (s fed per batch) → z = Log(y): Log of negative values is NaN, of 0 is −Infinity. */
function logModel(opset: number): Model {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', ['N', 8]));
  const s = g.input('s', tensorType('float32', [1]));
  const y = g.op1('onnx.Mul', [x, s], {}, { outputs: ['y'], types: [tensorType('float32', ['N', 8])] });
  const z = g.op1('onnx.Log', [y], {}, { outputs: ['z'], types: [tensorType('float32', ['N', 8])] });
  g.output(z);
  return g.model({ onnx: opset });
}

/** Seeded batches whose scale grows 4× batch by batch (the histogram widens again and again), one test_data_set_N folder each. */
function growingBatches(count: number): Map<string, Tensor>[] {
  let state = 7;
  const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return Array.from({ length: count }, (_, i) => new Map([
    ['x', Tensor.fromValues('float32', [4, 8], Float32Array.from({ length: 32 }, (_, k) => (k === 5 ? 0 : next())))],
    ['s', Tensor.fromValues('float32', [1], [4 ** i])],
  ]));
}

describe('in-graph statistics fall back to the values exactly where they must', () => {
  const work = mkdtempSync(join(tmpdir(), 'modelpass-in-graph-test-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const batches = growingBatches(6);
  batches.forEach((feeds, i) => {
    mkdirSync(join(work, `test_data_set_${i}`));
    for (const [name, tensor] of feeds) writeNpy(tensor, join(work, `test_data_set_${i}`, `${name}.npy`));
  });

  it.each([[16, 'minmax'], [16, 'percentile'], [13, 'percentile'], [11, 'minmax'], [11, 'percentile'], [8, 'percentile']] as const)(
    'opset %i, %s: NaN/±Infinity parts and many widenings give the JavaScript statistics',
    async (opset, method) => {
      const model = logModel(opset);
      const before = printModel(model);
      const ours = await collectStatistics(model, ['x', 'y', 'z'], { method, dataset: work, samples: 24, batchSize: 4, activationBudget: 2 ** 40 });
      expect(printModel(model)).toBe(before);
      const inGraph = method === 'minmax' || opset >= 9;
      expect(ours.collection?.inGraph).toEqual(inGraph ? ['x', 'y', 'z'] : []);
      // z holds NaN (log of negatives) in every part: read again from its values each time. With a
      // histogram, x86 casts NaN to an index ORT refuses, and the refused run has all three read again.
      if (!inGraph) expect(ours.collection?.recollected).toBe(0);
      else if (method === 'minmax') expect(ours.collection?.recollected).toBe(batches.length);
      else expect([batches.length, 3 * batches.length]).toContain(ours.collection?.recollected);
      expect(statisticsToJSON(ours).tensors).toEqual(await countedInJavaScript(model, ['x', 'y', 'z'], batches, method));
      const z = ours.tensors.get('z')!;
      expect((z instanceof MinMaxStatistics ? z : (z as HistogramStatistics).extremes).nonFinite).toBeGreaterThan(0);
    },
    60_000,
  );
});

describe('histogramOpset', () => {
  it('lifts opset 13–15 to 16, keeps 16 and later, refuses older models and RoiAlign', () => {
    expect(histogramOpset(logModel(12))).toBeUndefined();
    expect(histogramOpset(logModel(13))).toBe(16);
    expect(histogramOpset(logModel(15))).toBe(16);
    expect(histogramOpset(logModel(17))).toBe(17);
    const g = new GraphBuilder();
    const x = g.input('x', tensorType('float32', [1, 1, 8, 8]));
    const rois = g.input('rois', tensorType('float32', [1, 4]));
    const index = g.input('index', tensorType('int64', [1]));
    g.output(g.op1('onnx.RoiAlign', [x, rois, index], {}, { outputs: ['y'], types: [tensorType('float32', [1, 1, 1, 1])] }));
    expect(histogramOpset(g.model({ onnx: 13 }))).toBeUndefined();
    // int16 indices need no ScatterElements: any opset from 9 stays as it is, RoiAlign or not.
    expect(histogramOpset(g.model({ onnx: 13 }), 'indices')).toBe(13);
    expect(histogramOpset(logModel(11), 'indices')).toBe(11);
    expect(histogramOpset(logModel(9), 'indices')).toBe(9);
    expect(histogramOpset(logModel(8), 'indices')).toBeUndefined();
  });
});
