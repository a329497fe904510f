/**
 * Calibration inputs beyond the happy path: seeded random inputs (with the warning), streaming
 * (a dataset is read only as far as the samples asked for), and bad input — a wrong dataset spec,
 * samples of the wrong shape, a bad option or tensor name — each a ModelpassError naming the
 * option, file or tensor.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError, Tensor, parseModel } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { loadDataset, writeNpy } from '@modelpass/runtime';
import { calibrate, collectStatistics, MinMaxStatistics, type CalibrationOptions } from '../index.js';

const fixture = fileURLToPath(new URL('../../../../fixtures/models/fashion-cnn/model.onnx', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'modelpass-calibration-inputs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const model = readOnnx(fixture);
const conv = model.graph.nodeList().find((node) => node.op === 'onnx.Conv')!.outputs[0]!.name;

async function failure(promise: Promise<unknown>): Promise<ModelpassError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(ModelpassError.is(error), String(error)).toBe(true);
  return error as ModelpassError;
}

/** An IDX image file whose header claims `claimed` 28×28 samples but that holds only `held`. */
function truncatedIdx(path: string, claimed: number, held: number): void {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0x00000803, 0);
  header.writeUInt32BE(claimed, 4);
  header.writeUInt32BE(28, 8);
  header.writeUInt32BE(28, 12);
  const pixels = Buffer.alloc(held * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919) % 256;
  writeFileSync(path, gzipSync(Buffer.concat([header, pixels])));
}

describe('seeded random inputs', () => {
  it('warn once, saying so and how to give data, and are reproducible by seed', async () => {
    const warnings: string[] = [];
    const options: CalibrationOptions = { method: 'minmax', samples: 70, batchSize: 32, warn: (m) => warnings.push(m) };
    const first = await calibrate(model, [conv], options);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/no calibration dataset given: using 70 seeded random samples \(seed 0\)/);
    expect(warnings[0]).toMatch(/dataset=fashion-mnist:train/);
    expect(await calibrate(model, [conv], options)).toEqual(first);
    expect(await calibrate(model, [conv], { ...options, seed: 5 })).not.toEqual(first);
  });

  it('of a model with symbolic dims besides the batch are refused naming those dims, not the batch', async () => {
    const spatial = parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[batch,3,H,W]) {
  %y: float32[batch,3,H,W] = onnx.Relu(%x) name="relu"
  return %y
}
}`);
    const error = await calibrate(spatial, ['y'], { method: 'minmax', samples: 4, warn: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelpassError);
    expect(String((error as Error).message)).toMatch(/symbolic dimension 'H' at axis 2/);
    expect(String((error as Error).message)).not.toMatch(/dimension 'batch'/);
  });
});

describe('streaming', () => {
  it('reads a dataset only as far as the samples asked for', async () => {
    // 60,000 samples claimed, 300 held: reading the whole file fails, reading 256 does not.
    const images = join(work, 'truncated-images.gz');
    truncatedIdx(images, 60_000, 300);
    const labels = join(work, 'labels.gz');
    writeFileSync(labels, gzipSync(Buffer.concat([Buffer.from([0, 0, 8, 1, 0, 0, 0xea, 0x60]), Buffer.alloc(60_000)])));
    expect(() => loadDataset(`idx:${images},${labels}`)).toThrow(/shorter than its dimensions say/);
    const ranges = await calibrate(model, [conv, 'input'], { method: 'minmax', dataset: `idx:${images},${labels}`, samples: 256 });
    expect(ranges.get('input')).toEqual({ min: 0, max: 1 });
    const error = await failure(calibrate(model, [conv], { method: 'minmax', dataset: `idx:${images},${labels}`, samples: 400 }));
    expect(error.message).toMatch(/calibration option 'dataset': IDX data is shorter than its dimensions say/);
    expect(error.location?.file).toBe(images);
  });
});

describe('memory', () => {
  it('stays far below what holding 2,000 samples of activations would take', async () => {
    const tensors = model.graph.nodeList().filter((node) => node.op === 'onnx.Conv' || node.op === 'onnx.Relu').map((node) => node.outputs[0]!.name);
    const baseline = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const statistics = await collectStatistics(model, tensors, {
      method: 'minmax',
      dataset: 'fashion-mnist:train',
      samples: 2000,
      onProgress: () => (peak = Math.max(peak, process.memoryUsage().arrayBuffers - baseline)),
    });
    let held = 0;
    for (const s of statistics.tensors.values()) held += 4 * (s as MinMaxStatistics).count;
    expect(statistics.samples).toBe(2000);
    expect(held).toBeGreaterThan(250 * 2 ** 20); // 2,000 samples of these activations: ~290 MB
    // One batch of 64 and its garbage, not 2,000 samples (measured: ~50 MB of ArrayBuffers at the peak).
    expect(peak).toBeLessThan(held / 3);
  }, 120_000);
});

describe('a model with a fixed batch dimension', () => {
  it('runs batches of that size, rounds samples up to whole batches, and says when data ran short', async () => {
    const fixed = parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[32,4]) {
  %y: float32[32,4] = onnx.Relu(%x) name="relu"
  return %y
}
}`);
    const dir = join(work, 'npy-fixed');
    mkdirSync(dir);
    writeNpy(Tensor.fromValues('float32', [100, 4], Float32Array.from({ length: 400 }, (_, i) => i - 200)), join(dir, 'x.npy'));
    writeNpy(Tensor.fromValues('int32', [100], new Int32Array(100)), join(dir, 'y.npy'));
    const warnings: string[] = [];
    const progress: number[] = [];
    const ranges = await calibrate(fixed, ['x', 'y'], { method: 'minmax', dataset: `npy:${dir}`, samples: 100, batchSize: 10, warn: (m) => warnings.push(m), onProgress: (done) => progress.push(done) });
    expect(progress).toEqual([32, 64, 96]);
    expect(warnings).toEqual([`dataset 'npy:${dir}': the last 4 samples do not fit the model's fixed batch of 32 and are left out`]);
    // Samples 0..95: values -200 .. 183.
    expect(ranges.get('x')).toEqual({ min: -200, max: 183 });
    expect(ranges.get('y')).toEqual({ min: 0, max: 183 });
    // 10 samples asked for: one whole batch of 32 is read.
    const few = await calibrate(fixed, ['x'], { method: 'minmax', dataset: `npy:${dir}`, samples: 10, warn: (m) => warnings.push(m) });
    expect(few.get('x')).toEqual({ min: -200, max: -73 });
    expect(warnings).toHaveLength(1);
  });
});

describe('bad input', () => {
  it('an unknown kind of dataset or a missing folder names the option and the forms it takes', async () => {
    const error = await failure(calibrate(model, [conv], { method: 'minmax', dataset: 'fashion-mnst:train', samples: 8 }));
    expect(error.message).toMatch(/calibration option 'dataset' is 'fashion-mnst:train', which is neither a dataset spec nor a folder/);
    expect(error.diagnostics[0]!.expected).toMatch(/fashion-mnist:train\|test, idx:IMAGES,LABELS, npy:DIR, or a folder/);
    const split = await failure(calibrate(model, [conv], { method: 'minmax', dataset: 'fashion-mnist:validation', samples: 8 }));
    expect(split.message).toMatch(/calibration option 'dataset': dataset 'fashion-mnist:validation': unknown split 'validation'/);
    const missing = await failure(calibrate(model, [conv], { method: 'minmax', dataset: `idx:${join(work, 'none.gz')},x`, samples: 8 }));
    expect(missing.message).toMatch(/cannot read IDX file .*none\.gz': it does not exist/);
  });

  it('samples of the wrong shape name the option, the file and the shape expected', async () => {
    const npyDir = join(work, 'npy-wrong');
    mkdirSync(npyDir);
    writeNpy(Tensor.fromValues('float32', [4, 30, 30], new Float32Array(3600)), join(npyDir, 'x.npy'));
    writeNpy(Tensor.fromValues('int64', [4], [0n, 1n, 2n, 3n]), join(npyDir, 'y.npy'));
    const reshape = await failure(calibrate(model, [conv], { method: 'minmax', dataset: `npy:${npyDir}`, samples: 4 }));
    expect(reshape.message).toMatch(/calibration option 'dataset': cannot reshape samples of shape \[30,30\] to \[1,28,28\]/);
    const folder = join(work, 'folder-wrong');
    mkdirSync(folder);
    writeNpy(Tensor.fromValues('float32', [1, 27, 28], new Float32Array(756)), join(folder, 'a.npy'));
    const file = await failure(calibrate(model, [conv], { method: 'minmax', dataset: folder, samples: 4 }));
    expect(file.message).toMatch(/calibration option 'dataset': file '.*a\.npy' does not fit input 'input'/);
    expect(file.diagnostics[0]!.expected).toBe('float32[1,28,28] (one sample) or float32[N,1,28,28] (a batch)');
    expect(file.diagnostics[0]!.actual).toBe('float32[1,27,28]');
    const empty = join(work, 'folder-empty');
    mkdirSync(empty);
    expect((await failure(calibrate(model, [conv], { method: 'minmax', dataset: empty, samples: 4 }))).message).toMatch(/holds no \.npy or \.pb files/);
  });

  it('a dataset for a model with two inputs says to use test data sets', async () => {
    const twoInputs = parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%a: float32[N,4], %b: float32[N,4]) {
  %y: float32[N,4] = onnx.Add(%a, %b) name="add"
  return %y
}
}`);
    const error = await failure(calibrate(twoInputs, ['y'], { method: 'minmax', dataset: 'fashion-mnist:train', samples: 8 }));
    expect(error.message).toMatch(/feeds models with one input; this model has 2 \('a', 'b'\)/);
    // Random inputs feed both.
    const ranges = await calibrate(twoInputs, ['y'], { method: 'entropy', samples: 8 });
    expect(ranges.get('y')!.max).toBeGreaterThan(ranges.get('y')!.min);
  });

  it('bad options and unknown tensors are named', async () => {
    const bad: [Partial<CalibrationOptions>, RegExp][] = [
      [{ method: 'kl' as never }, /unknown calibration method 'kl'/],
      [{ samples: 0 }, /calibration option 'samples' is 0/],
      [{ samples: undefined as never }, /calibration option 'samples' is missing/],
      [{ percentile: 40 }, /calibration option 'percentile' is 40/],
      [{ bins: 1.5 }, /calibration option 'bins' is 1.5/],
      [{ dataset: ' ' }, /calibration option 'dataset' is empty/],
    ];
    for (const [options, message] of bad) {
      expect((await failure(calibrate(model, [conv], { method: 'minmax', samples: 8, ...options }))).message).toMatch(message);
    }
    expect((await failure(calibrate(model, ['nope'], { method: 'minmax', samples: 8 }))).message).toMatch(/tensor 'nope' to calibrate is not a value/);
  });
});
