/**
 * reconstruct and prune-channels{criterion=activation} on a model whose input has symbolic dims after
 * the batch (ESPCN's [b,1,h,w], PointNet's [b,3,n]) were refused whatever data was given: "needs a static
 * shape after its batch dimension", hint "give the model static sample dims" (QA s13). A folder of the
 * model's own inputs now runs one file at a time, whatever their sizes; random inputs and datasets are
 * refused naming the dims and the convert flag that fixes them.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { writeNpy } from '@modelpass/runtime';
import { loadCalibrationData } from '@modelpass/prune';
import { runPrune } from './channels-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'prune-calib-variable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function weights(shape: number[], seed: number): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromValues('float32', shape, Array.from({ length: count }, (_, i) => Math.sin(seed * 7.1 + i * 1.3)));
}

/** x [N,2,H,W] → conv1 (8, 3×3) → relu → conv2 (4, 1×1) → y: fully convolutional. */
function convs(): Model {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', ['N', 2, 'H', 'W']));
  const a = g.op1('onnx.Relu', [g.op1('onnx.Conv', [x, g.constant(weights([8, 2, 3, 3], 1), 'w1')], { kernel_shape: attrs.ints([3, 3]), pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv1' })], {}, { name: 'relu' });
  g.output(g.op1('onnx.Conv', [a, g.constant(weights([4, 8, 1, 1], 2), 'w2')], { kernel_shape: attrs.ints([1, 1]) }, { name: 'conv2', outputs: ['y'] }));
  return g.model({ onnx: 17 });
}

const ramp = (shape: number[], offset: number) => Tensor.fromValues('float32', shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.cos(offset + i * 0.37)));

describe('calibration of an input with symbolic dims after the batch', () => {
  const folder = join(dir, 'inputs');
  mkdirSync(folder);
  writeNpy(ramp([2, 5, 7], 1), join(folder, 'a.npy'));
  writeNpy(ramp([2, 2, 4, 4], 2), join(folder, 'b.npy'));

  it('reads a folder one file per run, samples and batches of different sizes', () => {
    const data = loadCalibrationData(convs(), { dataset: folder, samples: 10 });
    expect(data.batches.map((batch) => batch.shape)).toEqual([[1, 2, 5, 7], [2, 2, 4, 4]]);
  });

  it('refuses a file whose channels differ, naming it and the shapes it takes', () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeNpy(ramp([3, 4, 4], 0), join(bad, 'a.npy'));
    expect(() => loadCalibrationData(convs(), { dataset: bad, samples: 2 })).toThrow(/file '.*a\.npy' does not fit input 'x' \(expected float32\[2,H,W\] \(one sample\) or float32\[N,2,H,W\] \(a batch\), symbolic dimensions any size, got float32\[3,4,4\]\)/);
  });

  it('refuses random inputs naming the dims and the convert flag that fixes them', () => {
    expect(() => loadCalibrationData(convs(), { samples: 2 })).toThrow(/input 'x' has symbolic dimensions after its batch dimension \(\[N,2,H,W\]\): seeded random inputs cannot fill them/);
    try {
      loadCalibrationData(convs(), { samples: 2 });
    } catch (error) {
      expect(String((error as { diagnostics?: { hint?: string }[] }).diagnostics?.[0]?.hint)).toContain('--input-shape x=N,2,32,32');
    }
  });

  it('reconstruct{dataset=DIR} refits the pruned layer on them', async () => {
    const { statistics } = await runPrune(convs(), `prune-channels{ratio=0.5},reconstruct{dataset=${folder}}`);
    expect(statistics['layers-reconstructed']).toBe(1);
  });
});
