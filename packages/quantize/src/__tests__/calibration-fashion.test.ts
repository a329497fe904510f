/**
 * Calibration of the Fashion-MNIST CNN fixture on real data in ONNX Runtime: every Conv/Relu output
 * gets a range, and minmax equals a recomputation that loads the dataset whole (runtime's
 * `loadDataset`, not the streaming reader), adds the outputs by hand and runs ORT per batch.
 * Folders of inputs (sample files, batch files, test_data_set_N) give the same ranges as the dataset.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Tensor, temporaryPathsInFlight, type Model } from '@modelpass/ir';
import { encodeOnnx, encodeTensorProto, readOnnx } from '@modelpass/onnx';
import { datasetBatches, disposeSharedOrtRunner, FASHION_MNIST_DIR, loadDataset, runOrt, writeNpy } from '@modelpass/runtime';
import { StatisticsGraph, calibrate, chooseRanges, collectStatistics, mergeStatistics, statisticsFromJSON, statisticsToJSON, CALIBRATION_METHODS } from '../index.js';

const fixture = fileURLToPath(new URL('../../../../fixtures/models/fashion-cnn/model.onnx', import.meta.url));
if (!existsSync(FASHION_MNIST_DIR)) throw new Error(`Fashion-MNIST is missing at ${FASHION_MNIST_DIR}: run 'npm run setup' (tools/setup.sh installs Debian's dataset-fashion-mnist); this referee is never skipped`);
const work = mkdtempSync(join(tmpdir(), 'modelpass-calibration-test-'));
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await disposeSharedOrtRunner();
});

function convAndRelu(model: Model): string[] {
  return model.graph.nodeList().filter((node) => node.op === 'onnx.Conv' || node.op === 'onnx.Relu').map((node) => node.outputs[0]!.name);
}

/** The first `samples` training images as float32 [N, 1, 28, 28] batches, loaded whole. */
function referenceBatches(samples: number, batchSize: number): Tensor[] {
  const dataset = loadDataset('fashion-mnist:train', { limit: samples });
  return [...datasetBatches(dataset, { batchSize, sampleShape: [1, 28, 28] })].map((batch) => batch.input);
}

/** min/max of each tensor over ORT runs of the model with those tensors added as outputs by hand. */
async function referenceMinMax(model: Model, tensors: readonly string[], batches: readonly Tensor[]): Promise<Map<string, { min: number; max: number }>> {
  const original = [...model.graph.outputs];
  for (const name of tensors) model.graph.addOutput(model.graph.getValue(name)!);
  const bytes = encodeOnnx(model);
  model.graph.setOutputs(original);
  const ranges = new Map(tensors.map((name) => [name, { min: Infinity, max: -Infinity }]));
  for (const batch of batches) {
    const outputs = await runOrt(bytes, { input: batch }, { outputs: tensors });
    for (const name of tensors) {
      const range = ranges.get(name)!;
      for (const v of outputs.get(name)!.data() as Float32Array) {
        if (v < range.min) range.min = v;
        if (v > range.max) range.max = v;
      }
    }
  }
  return ranges;
}

describe('calibrating fashion-cnn on fashion-mnist:train', () => {
  const model = readOnnx(fixture);
  const tensors = convAndRelu(model);
  const options = { dataset: 'fashion-mnist:train', samples: 256 } as const;

  it('minmax ranges equal ORT run by hand on the same 256 images', async () => {
    expect(tensors.length).toBe(5);
    const progress: number[] = [];
    const ranges = await calibrate(model, tensors, { ...options, method: 'minmax', onProgress: (done) => progress.push(done) });
    expect([...ranges.keys()].sort()).toEqual([...tensors].sort());
    expect(progress).toEqual([64, 128, 192, 256]);
    const expected = await referenceMinMax(model, tensors, referenceBatches(256, 64));
    for (const name of tensors) expect(ranges.get(name)).toEqual(expected.get(name));
    // Relu outputs start at 0; the model itself is left as it was (no outputs added).
    expect(ranges.get(tensors.find((t) => t.includes('Relu'))!)!.min).toBe(0);
    expect(model.graph.outputs.map((o) => o.name)).toEqual(['logits']);
    // The temporary copy ORT ran is gone.
    expect(temporaryPathsInFlight()).toEqual([]);
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith(`.modelpass-calibration.${process.pid}.`))).toEqual([]);
  });

  it('every method gives every tensor a range inside the minmax range', async () => {
    const minmax = await calibrate(model, tensors, { ...options, method: 'minmax' });
    for (const method of CALIBRATION_METHODS) {
      for (const symmetric of [false, true]) {
        const ranges = await calibrate(model, tensors, { ...options, method, symmetric: () => symmetric });
        for (const name of tensors) {
          const range = ranges.get(name)!;
          const outer = minmax.get(name)!;
          expect(range.min, `${method} ${name}`).toBeGreaterThanOrEqual(outer.min);
          expect(range.max, `${method} ${name}`).toBeLessThanOrEqual(outer.max);
          expect(range.max, `${method} ${name}`).toBeGreaterThan(range.min);
        }
      }
    }
  });

  it('a batch size that does not divide the samples, and a graph input and an initializer as tensors', async () => {
    const weight = model.graph.nodeList().find((n) => n.op === 'onnx.Conv')!.inputs[1]!;
    const ranges = await calibrate(model, ['input', weight.name, tensors[0]!], { ...options, samples: 100, batchSize: 48, method: 'minmax' });
    const batches = referenceBatches(100, 48);
    expect(batches.map((b) => b.shape[0])).toEqual([48, 48, 4]);
    const expected = await referenceMinMax(model, [tensors[0]!], batches);
    expect(ranges.get(tensors[0]!)).toEqual(expected.get(tensors[0]!));
    const pixels = batches.flatMap((b) => [...(b.data() as Float32Array)]);
    expect(ranges.get('input')).toEqual({ min: Math.min(...pixels), max: Math.max(...pixels) });
    const weights = [...(weight.constant!.data() as Float32Array)];
    expect(ranges.get(weight.name)).toEqual({ min: Math.min(...weights), max: Math.max(...weights) });
  });
});

describe('a folder of inputs', () => {
  const model = readOnnx(fixture);
  const tensors = convAndRelu(model);

  it('one .npy file per sample, one .pb file per batch, and test_data_set_N folders all equal the dataset', async () => {
    const batches = referenceBatches(96, 32);
    const perSample = join(work, 'samples');
    const perBatch = join(work, 'batches');
    const sets = join(work, 'sets');
    for (const dir of [perSample, perBatch, sets]) mkdirSync(dir);
    let index = 0;
    batches.forEach((batch, b) => {
      const values = batch.data() as Float32Array;
      for (let s = 0; s < batch.shape[0]!; s++, index++) {
        writeNpy(Tensor.fromValues('float32', [1, 28, 28], values.subarray(s * 784, (s + 1) * 784)), join(perSample, `sample_${index}.npy`));
      }
      const bytes = encodeTensorProto(batch, 'input');
      // `input_N` names would mean 'the N-th input' in a test data set; in a plain folder every file is data.
      writeFileSync(join(perBatch, `batch_${b}.pb`), bytes);
      mkdirSync(join(sets, `test_data_set_${b}`));
      writeFileSync(join(sets, `test_data_set_${b}`, 'input_0.pb'), bytes);
    });
    const expected = await calibrate(model, tensors, { method: 'minmax', dataset: 'fashion-mnist:train', samples: 96, batchSize: 32 });
    for (const dataset of [perSample, perBatch, sets]) {
      const ranges = await calibrate(model, tensors, { method: 'minmax', dataset, samples: 96, batchSize: 32 });
      expect(ranges, dataset).toEqual(expected);
    }
    // Relative to cwd, and fewer samples than the folder holds.
    const few = await calibrate(model, tensors, { method: 'minmax', dataset: 'samples', cwd: work, samples: 10 });
    expect(few).toEqual(await calibrate(model, tensors, { method: 'minmax', dataset: 'fashion-mnist:train', samples: 10 }));
  });
});

describe('sharded calibration', () => {
  const model = readOnnx(fixture);
  const tensors = convAndRelu(model);

  it('statistics of two shards, merged through JSON, equal one run over both, bit for bit', async () => {
    const [first, second] = [join(work, 'shard-1'), join(work, 'shard-2')];
    const whole = join(work, 'shard-all');
    for (const dir of [first, second, whole]) mkdirSync(dir);
    const batches = referenceBatches(160, 80);
    batches.forEach((batch, b) => {
      const values = batch.data() as Float32Array;
      for (let s = 0; s < batch.shape[0]!; s++) {
        const sample = Tensor.fromValues('float32', [1, 28, 28], values.subarray(s * 784, (s + 1) * 784));
        const name = `sample_${String(b * 80 + s).padStart(4, '0')}.npy`;
        writeNpy(sample, join(b === 0 ? first : second, name));
        writeNpy(sample, join(whole, name));
      }
    });
    for (const method of CALIBRATION_METHODS) {
      const options = { method, samples: 160, batchSize: 32 };
      const shards = await Promise.all([first, second].map(async (dataset) => statisticsToJSON(await collectStatistics(model, tensors, { ...options, dataset }))));
      // As if sent between machines: JSON text, parsed back, then merged.
      const merged = mergeStatistics(statisticsFromJSON(JSON.parse(JSON.stringify(shards[0]))), statisticsFromJSON(JSON.parse(JSON.stringify(shards[1]))));
      const single = await collectStatistics(model, tensors, { ...options, dataset: whole });
      expect(statisticsToJSON(merged), method).toEqual(statisticsToJSON(single));
      expect(chooseRanges(merged, options)).toEqual(chooseRanges(single, options));
    }
  });
});

describe('an activation budget', () => {
  const model = readOnnx(fixture);
  const tensors = convAndRelu(model);

  it('runs batches in parts that fit it, with the same statistics as whole batches', async () => {
    // The activations are summarized inside ORT (StatisticsGraph); its runs are the calibration's runs.
    const runs = vi.spyOn(StatisticsGraph.prototype, 'runKeeping');
    try {
      for (const method of ['minmax', 'entropy'] as const) {
        const options = { method, dataset: 'fashion-mnist:train', samples: 100, batchSize: 64 };
        runs.mockClear();
        const whole = statisticsToJSON(await collectStatistics(model, tensors, { ...options, activationBudget: 256 * 2 ** 20 }));
        // One sample first (to measure), then the rest of the first batch, then the second batch.
        expect(runs.mock.calls.map(([feeds]) => feeds.get('input')!.shape[0])).toEqual([1, 63, 36]);
        runs.mockClear();
        // The default budget (8 MiB, so that each run's garbage stays small): ~150 KB per sample, ≤ 55 samples a run.
        const byDefault = statisticsToJSON(await collectStatistics(model, tensors, options));
        const defaultSizes = runs.mock.calls.map(([feeds]) => feeds.get('input')!.shape[0]!);
        expect(Math.max(...defaultSizes)).toBeLessThan(60);
        expect(defaultSizes.reduce((a, b) => a + b, 0)).toBe(100);
        expect(byDefault).toEqual(whole);
        runs.mockClear();
        // ~150 KB of these activations per sample: a 1 MB budget runs at most 6 samples at a time (4: a divisor of the batch).
        const parts = statisticsToJSON(await collectStatistics(model, tensors, { ...options, activationBudget: 2 ** 20 }));
        const sizes = runs.mock.calls.map(([feeds]) => feeds.get('input')!.shape[0]!);
        expect(sizes[0]).toBe(1);
        expect(Math.max(...sizes)).toBeLessThan(10);
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(100);
        expect(parts).toEqual(whole);
      }
    } finally {
      runs.mockRestore();
    }
  });
});
