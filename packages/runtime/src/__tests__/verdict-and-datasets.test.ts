/**
 * The runtime side of `modelpass compare` and `modelpass eval`: the worst element and NaN policy of
 * a comparison, the memory estimate that refuses oversized runs, dataset specs, per-channel
 * normalization and NHWC samples, and files that are not regular files.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import {
  checkMemoryBudget,
  compareModels,
  compareTensors,
  datasetBatches,
  loadDataset,
  readNpy,
  readTensorFile,
  symbolicInputDims,
  unflattenIndex,
  writeNpy,
} from '@modelpass/runtime';
import { temporaryDir } from './helpers.js';

const f32 = (shape: number[], values: number[]) => Tensor.fromValues('float32', shape, values);
const dir = temporaryDir('verdict');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the worst element and the NaN policy', () => {
  it('points at the element furthest beyond atol + rtol·|expected|, by per-axis index', () => {
    // tolerance 0.1 + 0.1·|e|: element [1,0] is off by 0.5 with tolerance 0.2 (excess 0.3);
    // element [1,2] is off by 1 with tolerance 1.1 (within, although its error is larger).
    const r = compareTensors('y', f32([2, 3], [0, 0, 0, 1, 0, 10]), f32([2, 3], [0, 0, 0, 1.5, 0, 11]), { atol: 0.1, rtol: 0.1 });
    expect(r.worst).toEqual({ index: [1, 0], expected: 1, actual: 1.5, absError: 0.5, tolerance: 0.1 + 0.1 * 1 });
    expect([r.mismatchedElements, r.withinTolerance, r.maxAbsError]).toEqual([1, false, 1]);
    expect(unflattenIndex(23, [2, 3, 4])).toEqual([1, 2, 3]);
    expect(unflattenIndex(0, [])).toEqual([]);
  });

  it('NaN matches NaN unless nanEqual is false; an infinity is matched only by itself', () => {
    const nan = [f32([2], [NaN, 1]), f32([2], [NaN, 1])] as const;
    expect(compareTensors('y', ...nan).withinTolerance).toBe(true);
    const strict = compareTensors('y', ...nan, { nanEqual: false });
    expect([strict.withinTolerance, strict.mismatchedElements, strict.worst?.index]).toEqual([false, 1, [0]]);
    // |inf - 5| <= atol + rtol·inf would hold in plain arithmetic; it must not.
    const infinite = compareTensors('y', f32([1], [Infinity]), f32([1], [5]), { atol: 1, rtol: 1 });
    expect([infinite.withinTolerance, infinite.worst?.absError, infinite.worst?.tolerance]).toEqual([false, Infinity, 0]);
  });

  it('names the first differing string', () => {
    const r = compareTensors('s', Tensor.fromStrings([3], ['a', 'b', 'c']), Tensor.fromStrings([3], ['a', 'x', 'y']));
    expect(r.worst).toMatchObject({ index: [1], expected: 'b', actual: 'x' });
  });
});

function gemmModel(batch: string | number) {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [batch, 1000]));
  const w = b.constant(Tensor.fromValues('float32', [1000, 1000], new Array(1e6).fill(0.001)), 'w');
  const y = b.op1('onnx.MatMul', [x, w], {}, { types: [tensorType('float32', [batch, 1000])] });
  b.output(y);
  return b.model({ onnx: 13 });
}

describe('memory a run would need', () => {
  it('is worked out from the shapes before anything is allocated, and refused over the budget', () => {
    const model = gemmModel('batch');
    expect(symbolicInputDims(model)).toEqual(['batch']);
    const inputs = [{ name: 'x', dtype: 'float32', shape: [1_000_000, 1000] }];
    expect(() => checkMemoryBudget(model, inputs, { engine: 'reference', budget: 2 ** 30 })).toThrow(
      /would need about [\d.]+ GiB, more than the 1\.0 GiB[\s\S]*largest: '[^']*' float32\[1000000,1000\] \(3\.7 GiB\)[\s\S]*give 'batch' a smaller size/,
    );
    const small = checkMemoryBudget(model, [{ name: 'x', dtype: 'float32', shape: [2, 1000] }], { engine: 'reference', budget: 2 ** 30 });
    expect([small.inputBytes, small.intermediateBytes]).toEqual([8000, 8000]);
  });

  it('says a shape of 100000 dims needs more than can be counted, and shows its rank, not every dim (QA s20 H)', () => {
    const model = gemmModel('batch');
    const shape = Array.from({ length: 100_000 }, () => 2);
    let message = '';
    try {
      checkMemoryBudget(model, [{ name: 'x', dtype: 'float32', shape }], { engine: 'ort', budget: 2 ** 30 });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/would need about more bytes than can be counted \(over 2\^1024\), more than the 1\.0 GiB/);
    expect(message).toContain("'x' float32[2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,… (100000 dims)]");
    expect(message).not.toContain('Infinity');
    expect(message.length).toBeLessThan(1000);
  });

  it('compareModels refuses a huge symbolic dim instead of dying of heap exhaustion', async () => {
    const model = gemmModel('batch');
    await expect(compareModels(model, model, { engine: 'reference', dims: { batch: 10_000_000 } })).rejects.toThrow(/this run would need about/);
    const ok = await compareModels(model, model, { engine: 'reference', dims: { batch: 2 } });
    expect(ok.withinTolerance).toBe(true);
  });
});

describe('dataset specs', () => {
  it('npy:DIR reads x.npy and y.npy; nhwc samples are transposed and normalized per channel', () => {
    const data = join(dir, 'rgb');
    mkdirSync(data);
    // Two 1x2 RGB images in HWC order: pixel values encode (channel, position).
    const hwc = [10, 20, 30, 11, 21, 31, 110, 120, 130, 111, 121, 131];
    writeNpy(Tensor.fromValues('float32', [2, 1, 2, 3], hwc), join(data, 'x.npy'));
    writeNpy(Tensor.fromValues('int64', [2], [3n, 1n]), join(data, 'y.npy'));
    const dataset = loadDataset(`npy:${data}`);
    expect([dataset.size, dataset.sampleShape, [...dataset.labels]]).toEqual([2, [1, 2, 3], [3, 1]]);
    const [batch] = [...datasetBatches(dataset, { batchSize: 2, sampleShape: [3, 1, 2], layout: 'nhwc', normalization: { mean: [10, 20, 30], std: [1, 2, 4] } })];
    // CHW: channel 0 = [10, 11] - 10, channel 1 = ([20, 21] - 20) / 2, channel 2 = ([30, 31] - 30) / 4.
    expect(batch!.input.toNumbers().slice(0, 6)).toEqual([0, 1, 0, 0.5, 0, 0.25]);
    expect(batch!.input.toNumbers().slice(6)).toEqual([100, 101, 50, 50.5, 25, 25.25]);
  });

  it('says what is wrong with a spec, a label file or a sample type', () => {
    expect(() => loadDataset('mnist:test')).toThrow(/unknown kind of dataset 'mnist'.*expected one of fashion-mnist:train\|test, idx:IMAGES,LABELS, npy:DIR/);
    expect(() => loadDataset('fashion-mnist')).toThrow(/'fashion-mnist' needs an argument/);
    // A bare folder: the hint names the npy: form.
    expect(() => loadDataset(dir)).toThrow(/unknown kind of dataset[\s\S]*hint: '.*' is a folder: a folder of \.npy samples and labels is written 'npy:/);
    expect(() => loadDataset('idx:only-one.gz')).toThrow(/needs two files separated by a comma/);
    const bad = join(dir, 'bad-labels');
    mkdirSync(bad);
    writeNpy(Tensor.fromValues('float32', [2, 4], [0, 0, 0, 0, 0, 0, 0, 0]), join(bad, 'x.npy'));
    writeNpy(Tensor.fromValues('float32', [2], [1, 0.5]), join(bad, 'y.npy'));
    expect(() => loadDataset(`npy:${bad}`)).toThrow(/label 1 in '.*y\.npy' is 0\.5, not a class index/);
    writeNpy(Tensor.fromValues('int32', [3], [1, 0, 2]), join(bad, 'y.npy'));
    expect(() => loadDataset(`npy:${bad}`)).toThrow(/has 3 labels for 2 samples/);
    expect(() => loadDataset(`npy:${join(dir, 'nowhere')}`)).toThrow(/cannot read NumPy file '.*x\.npy': it does not exist/);
  });
});

describe('files that are not regular files', () => {
  it('a FIFO or a folder is refused with what it is, never read', () => {
    const fifo = join(dir, 'pipe.npy');
    execFileSync('mkfifo', [fifo]);
    expect(() => readNpy(fifo)).toThrow(/cannot read NumPy file '.*pipe\.npy': it is a FIFO \(named pipe\), not a regular file/);
    const folder = join(dir, 'folder.pb');
    mkdirSync(folder);
    expect(() => readTensorFile(folder)).toThrow(/cannot read tensor file '.*folder\.pb': it is a folder, not a regular file/);
    expect(() => readNpy('/dev/zero')).toThrow(/it is a character device, not a regular file/);
  });
});
