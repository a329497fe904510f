import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import {
  FASHION_MNIST_DIR,
  OrtRunner,
  compareOutputs,
  datasetBatches,
  decodeIdx,
  evaluateAccuracy,
  loadFashionMnist,
  readNpy,
} from '@modelpass/runtime';
import { protoDataAsNpy } from './helpers.js';

const FIXTURES = join(import.meta.dirname, '../../../../fixtures/models');
const haveData = existsSync(join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz'));

describe('IDX files', () => {
  it('decodes big-endian IDX of every element type, gzipped or not', () => {
    const header = (type: number, dims: number[]) => {
      const bytes = new Uint8Array(4 + 4 * dims.length);
      const dv = new DataView(bytes.buffer);
      bytes[2] = type;
      bytes[3] = dims.length;
      dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
      return bytes;
    };
    const int16 = new Uint8Array([...header(0x0b, [2]), 0xff, 0xfe, 0x01, 0x00]);
    expect(decodeIdx(int16).toNumbers()).toEqual([-2, 256]);
    const f32 = new Uint8Array([...header(0x0d, [1, 1]), 0x3f, 0xc0, 0x00, 0x00]);
    const decoded = decodeIdx(gzipSync(f32));
    expect([decoded.dtype, decoded.shape, decoded.toNumbers()]).toEqual(['float32', [1, 1], [1.5]]);
    expect(decodeIdx(new Uint8Array([...header(0x08, [3]), 7, 8, 9]), 'x', 2).toNumbers()).toEqual([7, 8]);
    expect(() => decodeIdx(new Uint8Array([1, 2, 3, 4]), 'junk.idx')).toThrow(/junk.idx: not an IDX file/);
    expect(() => decodeIdx(new Uint8Array([...header(0x08, [5]), 1]), 'short.idx')).toThrow(/shorter than its dimensions/);
  });

  it('refuses a gzip bomb by its header before inflating it, and data after what the header declares', () => {
    const header = (dims: number[]) => {
      const bytes = new Uint8Array(4 + 4 * dims.length);
      bytes[2] = 0x08;
      bytes[3] = dims.length;
      dims.forEach((d, i) => new DataView(bytes.buffer).setUint32(4 + 4 * i, d, false));
      return bytes;
    };
    // 10 million 28x28 images declared, 64 MB of zeros behind: refused from the header alone.
    const bomb = gzipSync(Buffer.concat([header([10_000_000, 28, 28]), Buffer.alloc(64 << 20)]));
    const started = Date.now();
    expect(() => decodeIdx(bomb, 'bomb.gz', 10)).toThrow(/bomb.gz: IDX header declares 7840000016 bytes, more than modelpass loads/);
    expect(Date.now() - started).toBeLessThan(2000);
    // A true header (3 items) with 32 MB of trailing zeros: refused once inflating passes the declared length.
    const padded = gzipSync(Buffer.concat([header([3]), Buffer.from([1, 2, 3]), Buffer.alloc(32 << 20)]));
    expect(() => decodeIdx(padded, 'padded.gz')).toThrow(/padded.gz: IDX file has data after the 11 bytes its header declares/);
    expect(() => decodeIdx(new Uint8Array([...header([3]), 1, 2, 3, 4]), 'raw.idx')).toThrow(/raw.idx: IDX file has data after the 11 bytes/);
    expect(decodeIdx(gzipSync(new Uint8Array([...header([3]), 1, 2, 3])), 'ok.gz').toNumbers()).toEqual([1, 2, 3]);
  });

  it('batches and normalizes samples into any shape of the same size', () => {
    const samples = decodeIdx(new Uint8Array([0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 2, 0, 255, 51, 102, 0, 0]));
    const dataset = { samples, labels: Int32Array.from([1, 2, 3]), size: 3, sampleShape: [2] };
    const batches = [...datasetBatches(dataset, { batchSize: 2, sampleShape: [1, 2], normalization: { mean: 0.5, std: 0.5 } })];
    expect(batches.map((b) => b.input.shape)).toEqual([[2, 1, 2], [1, 1, 2]]);
    expect(batches[0]!.input.toNumbers()).toEqual([-1, 1, -0.6, -0.2].map(Math.fround));
    expect([...batches[1]!.labels]).toEqual([3]);
  });
});

describe('Fashion-MNIST accuracy on ONNX Runtime', () => {
  it('has the labelled data (Debian dataset-fashion-mnist, installed by tools/setup.sh)', () => {
    // A referee, never skipped: without the data these tests fail here instead of vanishing.
    expect(haveData, `missing ${FASHION_MNIST_DIR}; run tools/setup.sh`).toBe(true);
  });

  it('reads the test split: 10,000 images of 28x28, 1,000 per class', () => {
    const test = loadFashionMnist({ split: 'test' });
    expect([test.size, test.sampleShape, test.samples.dtype]).toEqual([10000, [28, 28], 'uint8']);
    const counts = new Array(10).fill(0);
    for (const label of test.labels) counts[label]++;
    expect(counts).toEqual(new Array(10).fill(1000));
  });

  it('feeds the same pixels torch saw: the fixture test data matches our first batch', async () => {
    const npy = protoDataAsNpy(join(FIXTURES, 'fashion-cnn'), 'fashion-cnn');
    const torchInput = readNpy(join(npy, 'input_0.npy'));
    const ours = datasetBatches(loadFashionMnist({ limit: 8 }), { batchSize: 8, sampleShape: [1, 28, 28] }).next().value!.input;
    expect(ours.shape).toEqual(torchInput.shape);
    expect(compareOutputs(new Map([['x', torchInput]]), new Map([['x', ours]])).maxAbsError).toBeLessThan(1e-7);
    const runner = new OrtRunner();
    try {
      const logits = await runner.run(join(FIXTURES, 'fashion-cnn/model.onnx'), { input: ours });
      const report = compareOutputs(new Map([['logits', readNpy(join(npy, 'output_0.npy'))]]), logits);
      expect(report.top1Agreement).toBe(1);
      expect(report.maxAbsError).toBeLessThan(1e-3);
    } finally {
      await runner.dispose();
    }
  });

  it("reproduces the CNN's torch-measured accuracy on all 10,000 test images", async () => {
    const test = loadFashionMnist({ split: 'test' });
    const result = await evaluateAccuracy(join(FIXTURES, 'fashion-cnn/model.onnx'), test, { engine: 'ort', batchSize: 500 });
    expect(result.total).toBe(10000);
    expect(result.engine).toBe('ort');
    // info.json: 0.8941 measured by torch 1.13 on the same 10,000 images.
    expect(Math.abs(result.accuracy - 0.8941)).toBeLessThanOrEqual(0.0005);
  });

  it('reshapes samples for a flat-input MLP and reproduces its accuracy; limit evaluates a prefix', async () => {
    const test = loadFashionMnist({ split: 'test' });
    const mlp = join(FIXTURES, 'fashion-mlp/model.onnx');
    const runner = new OrtRunner();
    try {
      const full = await evaluateAccuracy(mlp, test, { engine: runner, batchSize: 768 }); // 10,000 = 13 * 768 + 16
      expect(Math.abs(full.accuracy - 0.8558)).toBeLessThanOrEqual(0.0005); // info.json, torch
      const progress: [number, number][] = [];
      const prefix = await evaluateAccuracy(mlp, test, { engine: runner, batchSize: 300, limit: 1000, onProgress: (done, all) => progress.push([done, all]) });
      expect(prefix.total).toBe(1000);
      expect(progress).toEqual([
        [300, 1000],
        [600, 1000],
        [900, 1000],
        [1000, 1000],
      ]);
      expect(prefix.correct).toBe(Math.round(prefix.accuracy * 1000));
      expect(runner.cachedSessions).toBe(1); // a caller's engine is neither recreated nor disposed
    } finally {
      await runner.dispose();
    }
  });

  it('honours a fixed batch dimension: pads the last batch and ignores the padding', async () => {
    // Nearest-centroid classifier as a Gemm: logits_c = x . (2 mu_c) - |mu_c|^2, argmax = nearest mean.
    const train = loadFashionMnist({ split: 'train', limit: 2000 });
    const pixels = train.samples.toNumbers().map((v) => v / 255);
    const sums = Array.from({ length: 10 }, () => new Float64Array(784));
    const counts = new Array(10).fill(0);
    train.labels.forEach((label, i) => {
      counts[label]++;
      for (let p = 0; p < 784; p++) sums[label]![p]! += pixels[i * 784 + p]!;
    });
    const means = sums.map((sum, c) => Array.from(sum, (v) => v / counts[c]));
    const weights = means.flatMap((mu) => mu.map((v) => 2 * v));
    const bias = means.map((mu) => -mu.reduce((a, v) => a + v * v, 0));
    const b = new GraphBuilder();
    const x = b.input('pixels', tensorType('float32', [4, 784]));
    const w = b.constant(Tensor.fromValues('float32', [10, 784], weights), 'centroids');
    const c = b.constant(Tensor.fromValues('float32', [10], bias), 'bias');
    const y = b.op1('onnx.Gemm', [x, w, c], { transB: { kind: 'int', value: 1 } }, { types: [tensorType('float32', [4, 10])] });
    b.output(y);
    const model = b.model({ onnx: 13 });

    const test = loadFashionMnist({ split: 'test', limit: 10 }); // 10 = 4 + 4 + 2 (+ 2 padding)
    const result = await evaluateAccuracy(model, test, { batchSize: 64 });
    // The same classifier by hand, in float64.
    const testPixels = test.samples.toNumbers().map((v) => v / 255);
    let correct = 0;
    for (let i = 0; i < 10; i++) {
      const logits = means.map((_, k) => bias[k]! + weights.slice(k * 784, k * 784 + 784).reduce((a, wv, p) => a + wv * testPixels[i * 784 + p]!, 0));
      if (logits.indexOf(Math.max(...logits)) === test.labels[i]) correct++;
    }
    expect(result.total).toBe(10);
    expect(result.correct).toBe(correct);
  });

  it('refuses a label outside the model\'s outputs, naming the label and sample, instead of scoring it wrong', async () => {
    const test = loadFashionMnist({ split: 'test', limit: 300 });
    const labels = Int32Array.from(test.labels);
    labels[7] = 42;
    await expect(evaluateAccuracy(join(FIXTURES, 'fashion-mlp/model.onnx'), { ...test, labels }, { engine: 'ort', batchSize: 128 }))
      .rejects.toThrow(/label 42 of sample 7 is outside the 10 outputs/);
    const oneBased = Int32Array.from(test.labels, (label) => label + 1);
    await expect(evaluateAccuracy(join(FIXTURES, 'fashion-mlp/model.onnx'), { ...test, labels: oneBased }, { engine: 'ort', batchSize: 128 }))
      .rejects.toThrow(/label 10 of sample \d+ is outside the 10 outputs/);
  });
});
