/**
 * Sampled histograms (`histogramStride`, `histogram-sampling.ts`): the stride rule (a prime dividing
 * neither the last dimension nor the size per sample), which values a batch counts (numbered across
 * batches, every value of a small batch), the in-graph histogram (a strided Slice) counting exactly the
 * values the JavaScript path counts — NaN parts read again from their values, small and large runs
 * mixed —, stride 1 being the exact histogram, and the option errors.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, ModelpassError, Tensor, printModel, tensorType, type Model } from '@modelpass/ir';
import { disposeSharedOrtRunner, writeNpy } from '@modelpass/runtime';
import {
  ActivationCollector,
  HISTOGRAM_STRIDE_MIN_COUNTED,
  HistogramStatistics,
  checkCalibrationOptions,
  collectStatistics,
  createStatistics,
  histogramStrideFor,
  histogramStrides,
  statisticsToJSON,
  type CalibrationMethod,
} from '../index.js';
import { readFixture, runPipeline } from './static-helpers.js';

afterAll(() => disposeSharedOrtRunner());

describe('histogramStrideFor', () => {
  it('takes the smallest prime ≥ the request that divides neither the last dimension nor the size per sample', () => {
    // 7 divides 28 (and 16·28·28): 11.
    expect(histogramStrideFor(tensorType('float32', ['N', 16, 28, 28]), 7)).toBe(11);
    expect(histogramStrideFor(tensorType('float32', ['N', 3, 61, 23]), 7)).toBe(7);
    // 2 divides 28, 3 divides neither 28 nor 12544.
    expect(histogramStrideFor(tensorType('float32', ['N', 16, 28, 28]), 2)).toBe(3);
    // Not a prime: the next prime, 11 (8 → 11; 9, 10 are not prime).
    expect(histogramStrideFor(tensorType('float32', ['N', 10]), 8)).toBe(11);
    // Last dimension 13·2, per sample 5·13·2·... : 13 divides 26, so 17.
    expect(histogramStrideFor(tensorType('float32', ['N', 5, 26]), 13)).toBe(17);
    // Only known dimensions are checked; no type: the smallest prime ≥ 7.
    expect(histogramStrideFor(tensorType('float32', ['N', 'C', 14]), 7)).toBe(11);
    expect(histogramStrideFor(tensorType('float32', ['N', 7, 'W']), 7)).toBe(7);
    expect(histogramStrideFor(undefined, 7)).toBe(7);
    expect(histogramStrideFor(tensorType('float32', ['N', 16, 28, 28]), 1)).toBe(1);
  });

  it('infers the shapes a model does not declare for the choice, and puts its types back', () => {
    const model = readFixture('fashion-resnet');
    const before = printModel(model);
    const strides = histogramStrides(model, ['/conv/Conv_output_0', '/block3/Relu_1_output_0', 'logits'], 7);
    expect(printModel(model)).toBe(before);
    // [N,16,28,28] and [N,64,7,7]: 7 divides both; logits [N,10]: 7.
    expect([...strides.values()]).toEqual([11, 11, 7]);
    expect([...histogramStrides(model, ['logits'], 1).values()]).toEqual([1]);
  });
});

/** Deterministic values in [−3, 3), a NaN or Infinity at the given indices. */
function valuesOf(length: number, seed: number, holes: readonly number[] = []): Float32Array {
  let state = seed;
  const values = Float32Array.from({ length }, () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 6 - 3);
  holes.forEach((index, k) => (values[index] = k % 2 === 0 ? NaN : Infinity));
  return values;
}

describe('HistogramStatistics with a stride', () => {
  const stride = 7;
  const large = stride * HISTOGRAM_STRIDE_MIN_COUNTED;

  it('counts the values numbered 0 mod p across batches, every value of a small batch, and keeps min/max over all', () => {
    const batches = [valuesOf(large + 3, 1), valuesOf(100, 2), valuesOf(large + 5, 3, [7, 14])];
    const histogram = new HistogramStatistics(64, stride);
    for (const batch of batches) histogram.add(batch);
    // Reference: the same values counted one by one at the final width.
    const reference = new HistogramStatistics(64);
    let position = 0;
    const finite: number[] = [];
    for (const batch of batches) {
      const sampled = batch.length >= large;
      batch.forEach((v, i) => {
        if (Number.isFinite(v)) finite.push(v);
        if (!sampled || (position + i) % stride === 0) reference.add([v]);
      });
      position += batch.length;
    }
    const counted = reference.toJSON();
    const mine = histogram.toJSON();
    expect(mine.width).toBe(counted.width);
    expect(mine.counts).toEqual(counted.counts);
    expect(mine.offset).toBe(counted.offset);
    expect(histogram.extremes.count).toBe(finite.length);
    expect(histogram.extremes.nonFinite).toBe(2);
    expect(histogram.extremes.min).toBe(Math.min(...finite));
    expect(histogram.extremes.max).toBe(Math.max(...finite));
    expect(mine.stride).toBe(stride);
    expect(mine.position).toBe(position);
    // Far fewer values counted than seen: about 1 in 7 of the large batches.
    const total = mine.counts.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThan(0.2 * histogram.extremes.count);
    expect(HistogramStatistics.fromJSON(mine).toJSON()).toEqual(mine);
  });

  it('counts the same values however the stream is cut into large batches', () => {
    const all = valuesOf(3 * large + 11, 9);
    const whole = new HistogramStatistics(128, stride).add(all);
    const cut = new HistogramStatistics(128, stride).add(all.subarray(0, large + 4)).add(all.subarray(large + 4));
    expect(cut.toJSON()).toEqual(whole.toJSON());
  });

  it('holds every value in its width even where the largest is not counted', () => {
    const values = new Float32Array(large).fill(0.5);
    values[1] = 1000; // not a multiple of 7
    const histogram = new HistogramStatistics(16, stride).add(values);
    expect(histogram.width * 16).toBeGreaterThan(1000);
    expect(histogram.extremes.max).toBe(1000);
  });

  it('refuses to merge histograms of different strides, naming both', () => {
    expect(() => new HistogramStatistics(16, 7).merge(new HistogramStatistics(16, 11))).toThrow(/different strides[\s\S]*|stride 7/);
    expect(() => new HistogramStatistics(16, 0)).toThrow(ModelpassError);
  });
});

/** x [N, 3, 61, 23] → y = x · s (s fed) → z = Log(y): NaN where y < 0. 4,209 values per sample: 7 divides neither 23 nor 4209. */
function wideModel(): Model {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', ['N', 3, 61, 23]));
  const s = g.input('s', tensorType('float32', [1]));
  const y = g.op1('onnx.Mul', [x, s], {}, { outputs: ['y'], types: [tensorType('float32', ['N', 3, 61, 23])] });
  const z = g.op1('onnx.Log', [y], {}, { outputs: ['z'], types: [tensorType('float32', ['N', 3, 61, 23])] });
  g.output(z);
  return g.model({ onnx: 13 });
}

describe('in-graph sampled histograms equal the JavaScript ones', () => {
  const work = mkdtempSync(join(tmpdir(), 'modelpass-stride-test-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  // Runs of 1, 4, 3, 4 and 4 samples: 4,209 / 16,836 / 12,627 values per tensor; with stride 7 only the
  // 4-sample runs (≥ 7 × 2048) are sampled. Scales grow (the width widens); the 4th run holds negatives, so z has NaN.
  const sizes = [1, 4, 3, 4, 4];
  const batches = sizes.map((samples, i) => {
    const x = valuesOf(samples * 4209, 20 + i).map((v) => (i === 3 ? v : Math.abs(v) + 0.01));
    return new Map([
      ['x', Tensor.fromValues('float32', [samples, 3, 61, 23], x)],
      ['s', Tensor.fromValues('float32', [1], [2 ** i])],
    ]);
  });
  batches.forEach((feeds, i) => {
    mkdirSync(join(work, `test_data_set_${i}`));
    for (const [name, tensor] of feeds) writeNpy(tensor, join(work, `test_data_set_${i}`, `${name}.npy`));
  });

  async function countedInJavaScript(model: Model, method: CalibrationMethod, strides: ReadonlyMap<string, number>) {
    const collector = await ActivationCollector.open(model, [...strides.keys()]);
    const statistics = new Map([...strides].map(([name, stride]) => [name, createStatistics({ method }, stride)]));
    try {
      for (const feeds of batches) for (const [name, tensor] of await collector.run(feeds)) statistics.get(name)!.add(tensor.data() as Float32Array);
    } finally {
      await collector.dispose();
    }
    return Object.fromEntries([...statistics].map(([name, s]) => [name, s.toJSON()]));
  }

  it.each(['percentile', 'entropy'] as const)('%s, stride 7: same counts, widths, extremes and numbering', async (method) => {
    const model = wideModel();
    const before = printModel(model);
    const tensors = ['x', 'y', 'z'];
    const ours = await collectStatistics(model, tensors, { method, dataset: work, samples: 16, batchSize: 4, activationBudget: 2 ** 40, histogramStride: 7 });
    expect(printModel(model)).toBe(before);
    expect(ours.collection?.inGraph).toEqual(tensors);
    // z's NaN part was read again from its values (the sampled JavaScript path), with x and y if ORT refused the run.
    expect(ours.collection?.recollected).toBeGreaterThan(0);
    const strides = histogramStrides(model, tensors, 7);
    expect([...strides.values()]).toEqual([7, 7, 7]);
    const json = statisticsToJSON(ours).tensors;
    expect(json).toEqual(await countedInJavaScript(model, method, strides));
    // Sampled: the two large runs' share is about 1/7 of their values.
    const y = json['y']!;
    if (y.kind !== 'histogram') throw new Error('histogram expected');
    const counted = y.counts.reduce((a, b) => a + b, 0);
    const all = 16 * 4209;
    expect(y.extremes.count).toBe(all);
    expect(counted).toBeLessThan(0.5 * all);
    expect(counted).toBeGreaterThan(all / 7);
  }, 60_000);

  it('stride 1 is the exact histogram, as with no stride given', async () => {
    const model = wideModel();
    const exact = await collectStatistics(model, ['y'], { method: 'percentile', dataset: work, samples: 16, batchSize: 4, activationBudget: 2 ** 40, histogramStride: 1 });
    const json = statisticsToJSON(exact).tensors['y']!;
    if (json.kind !== 'histogram') throw new Error('histogram expected');
    expect(json.stride).toBeUndefined();
    expect(json.counts.reduce((a, b) => a + b, 0)).toBe(json.extremes.count);
    const byDefault = await collectStatistics(model, ['y'], { method: 'percentile', dataset: work, samples: 16, batchSize: 4, activationBudget: 2 ** 40 });
    const defaultJson = statisticsToJSON(byDefault).tensors['y']!;
    if (defaultJson.kind !== 'histogram') throw new Error('histogram expected');
    expect(defaultJson.stride ?? 1).toBe(histogramStrides(model, ['y'], 1).get('y'));
  }, 60_000);
});

describe('quantize-static histogram-stride', () => {
  it('says in --debug how the histograms are counted', async () => {
    const model = readFixture('fashion-cnn');
    const debug: string[] = [];
    await runPipeline(model, 'simplify,quantize-static{samples=8 calibration=percentile histogram-stride=7}', debug);
    const line = debug.find((l) => l.startsWith('calibration: histograms from'));
    // fashion-cnn's calibrated tensors: [N,32,14,14] and [N,64,7,7] (7 divides 14 and 7) get 11, one of [N,128] gets 7.
    expect(line).toMatch(/^calibration: histograms from 1 in 7 values of 1 tensor\(s\), 1 in 11 values of 2 tensor\(s\) of 3 \(histogram-stride=7: .*\), in runs of ≥ 7 × 2048 values/);
    const exact: string[] = [];
    await runPipeline(readFixture('fashion-cnn'), 'simplify,quantize-static{samples=8 calibration=entropy histogram-stride=1}', exact);
    expect(exact).toContain('calibration: histograms from every value of the 3 calibrated tensors (histogram-stride=1)');
  }, 60_000);
});

describe('histogram-stride option errors', () => {
  it.each([0, -7, 2.5])('histogramStride %s is refused naming the option', (stride) => {
    expect(() => checkCalibrationOptions({ method: 'percentile', samples: 8, histogramStride: stride })).toThrow(/calibration option 'histogramStride' is/);
  });

  it('histogramStride with minmax is refused naming the option', () => {
    expect(() => checkCalibrationOptions({ method: 'minmax', samples: 8, histogramStride: 7 })).toThrow(/'histogramStride' applies to the histogram methods, not to minmax/);
  });

  it.each([
    ['calibration=percentile histogram-stride=0', /histogram-stride/],
    ['calibration=entropy histogram-stride=1.5', /histogram-stride/],
    ['calibration=minmax histogram-stride=7', /option 'histogram-stride' of pass 'quantize-static' applies to calibration=percentile, entropy or distribution, not to calibration=minmax/],
  ])('quantize-static{%s} is a clear option error', async (options, message) => {
    const model = readFixture('fashion-cnn');
    const failure = await runPipeline(model, `quantize-static{samples=8 ${options}}`).then(() => undefined, (error: unknown) => error);
    expect(ModelpassError.is(failure)).toBe(true);
    expect(String((failure as ModelpassError).reason ?? failure)).toMatch(message);
  });
});
