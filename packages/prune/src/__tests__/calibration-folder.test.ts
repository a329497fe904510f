/**
 * reconstruct (and prune-channels{criterion=activation}) take a folder of unlabelled .npy/.pb inputs, as
 * quantize-static does (QA s12: `reconstruct{dataset=DIR}` was refused as "unknown kind of dataset" and the
 * hint pointed at npy:DIR, which needs labels). Each file is one sample or one batch; output_N files are
 * left out; files are read in name order until `samples` are taken.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { writeNpy } from '@modelpass/runtime';
import { loadCalibrationData } from '@modelpass/prune';
import { runPrune } from './channels-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'prune-calib-folder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function weights(shape: number[], seed: number): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromValues('float32', shape, Array.from({ length: count }, (_, i) => Math.sin(seed * 7.1 + i * 1.3)));
}

/** x [N,2,3,3] → conv1 (8) → relu → conv2 (4) → y. */
function convs(): Model {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', ['N', 2, 3, 3]));
  const a = g.op1('onnx.Relu', [g.op1('onnx.Conv', [x, g.constant(weights([8, 2, 1, 1], 1), 'w1')], { kernel_shape: attrs.ints([1, 1]) }, { name: 'conv1' })], {}, { name: 'relu' });
  g.output(g.op1('onnx.Conv', [a, g.constant(weights([4, 8, 1, 1], 2), 'w2')], { kernel_shape: attrs.ints([1, 1]) }, { name: 'conv2', outputs: ['y'] }));
  return g.model({ onnx: 17 });
}

const sample = (base: number) => Array.from({ length: 18 }, (_, i) => base + i / 100);

describe('calibration data from a folder of inputs', () => {
  const folder = join(dir, 'inputs');
  mkdirSync(folder);
  writeNpy(Tensor.fromValues('float32', [2, 3, 3], sample(1)), join(folder, 'a.npy'));
  writeNpy(Tensor.fromValues('float32', [2, 2, 3, 3], [...sample(2), ...sample(3)]), join(folder, 'b.npy'));
  writeNpy(Tensor.fromValues('float32', [2, 3, 3], sample(9)), join(folder, 'c.npy'));
  writeNpy(Tensor.fromValues('float32', [1, 4, 3, 3], new Float32Array(36)), join(folder, 'output_0.npy'));

  it('reads samples and batches in name order, regrouped into batches, up to samples', () => {
    const data = loadCalibrationData(convs(), { dataset: folder, samples: 3, batchSize: 2 });
    expect(data.inputName).toBe('x');
    expect(data.batches.map((batch) => batch.shape)).toEqual([[2, 2, 3, 3], [1, 2, 3, 3]]);
    expect(data.batches[0]!.toNumbers().slice(0, 2)).toEqual([1, 1.01].map(Math.fround));
    expect(data.batches[1]!.toNumbers()[0]).toBe(3);
  });

  it('names the file, the input and the shapes it takes when a file does not fit', () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeNpy(Tensor.fromValues('float32', [3, 3, 3], new Float32Array(27)), join(bad, 'a.npy'));
    expect(() => loadCalibrationData(convs(), { dataset: bad, samples: 2 })).toThrow(/file '.*a\.npy' does not fit input 'x' \(expected float32\[2,3,3\] \(one sample\) or float32\[N,2,3,3\] \(a batch\), got float32\[3,3,3\]\)/);
  });

  it('reconstruct{dataset=DIR} refits the pruned layer on them', async () => {
    const { statistics, result } = await runPrune(convs(), `prune-channels{ratio=0.5},reconstruct{dataset=${folder} samples=4}`);
    expect(statistics['layers-reconstructed']).toBe(1);
    expect(result.diagnostics.map((d) => d.reason).join('\n')).not.toMatch(/seeded random samples/);
  }, 60_000);
});
