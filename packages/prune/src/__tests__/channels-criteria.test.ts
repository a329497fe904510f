/**
 * The criteria of prune-channels pick different channels on one model built so that they disagree:
 * a 1×1 Conv (weights 1, 0.01, 2, 0.001) → BatchNormalization (gamma 0.01, 100, 0.01, 1) → Relu →
 * Conv. L1 keeps channels {0, 2}, bn-scale {1, 3}, the mean |activation| on calibration data {1, 2}.
 * Also: ratio 1 keeps one channel, the per-group report, and reconstruct's refusal without a record.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType, type Model } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { disposeSharedOrtRunner, writeNpy } from '@modelpass/runtime';
import { analyzeChannelDependencies, channelPruningRecord } from '@modelpass/prune';
import { decodeOnnx } from '@modelpass/onnx';
import { runPrune } from './channels-harness.js';

afterAll(() => disposeSharedOrtRunner());

function f32(shape: number[], values: number[]): Tensor {
  return Tensor.fromValues('float32', shape, values);
}

function model(): Model {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', ['N', 1, 2, 2]));
  const c1 = g.op1('onnx.Conv', [x, g.constant(f32([4, 1, 1, 1], [1, 0.01, 2, 0.001]), 'w1')], { kernel_shape: attrs.ints([1, 1]) }, { name: 'conv1' });
  const bn = g.op1('onnx.BatchNormalization', [c1, g.constant(f32([4], [0.01, 100, 0.01, 1]), 'gamma'), g.constant(f32([4], [0, 0, 0, 0]), 'beta'), g.constant(f32([4], [0, 0, 0, 0]), 'mean'), g.constant(f32([4], [1, 1, 1, 1]), 'var')], { epsilon: attrs.float(0) }, { name: 'bn' });
  const relu = g.op1('onnx.Relu', [bn], {}, { name: 'relu' });
  const y = g.op1('onnx.Conv', [relu, g.constant(f32([2, 4, 1, 1], [1, 2, 3, 4, 5, 6, 7, 8]), 'w2')], { kernel_shape: attrs.ints([1, 1]) }, { name: 'conv2' });
  g.output(y);
  return g.model({ onnx: 17 });
}

/** Which original channels conv1 kept, read back from its weights (all distinct). */
function keptChannels(pruned: Model): number[] {
  const weights = pruned.graph.getValue('w1')!.constant!.toNumbers();
  return weights.map((w) => [1, 0.01, 2, 0.001].findIndex((v) => Math.fround(v) === Math.fround(w)));
}

describe('prune-channels criteria', () => {
  it('l1 keeps the largest weights', async () => {
    const m = model();
    await runPrune(m, 'prune-channels{ratio=0.5 criterion=l1}');
    expect(keptChannels(m)).toEqual([0, 2]);
    expect(m.graph.getValue('gamma')!.constant!.toNumbers()).toEqual([Math.fround(0.01), Math.fround(0.01)]);
    expect(m.graph.getValue('w2')!.constant!.shape).toEqual([2, 2, 1, 1]);
  });

  it('bn-scale keeps the largest |gamma|', async () => {
    const m = model();
    await runPrune(m, 'prune-channels{ratio=0.5 criterion=bn-scale}');
    expect(keptChannels(m)).toEqual([1, 3]);
  });

  it('activation keeps the largest mean |activation| on an npy dataset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prune-calib-'));
    try {
      writeNpy(Tensor.fromValues('float32', [6, 1, 2, 2], Array.from({ length: 24 }, (_, i) => 0.5 + (i % 5) / 10)), join(dir, 'x.npy'));
      writeNpy(Tensor.fromValues('int64', [6], [0n, 1n, 0n, 1n, 0n, 1n]), join(dir, 'y.npy'));
      const m = model();
      const { result } = await runPrune(m, `prune-channels{ratio=0.5 criterion=activation dataset="npy:${dir}" samples=6}`);
      expect(keptChannels(m)).toEqual([1, 2]);
      expect(result.diagnostics.filter((d) => d.severity === 'warning')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('activation without a dataset warns that random inputs stand in', async () => {
    const m = model();
    const { result, statistics } = await runPrune(m, 'prune-channels{ratio=0.5 criterion=activation samples=8}');
    expect(statistics['channels-removed']).toBe(2);
    expect(result.diagnostics.map((d) => d.reason).join('\n')).toContain('no calibration dataset given: using 8 seeded random samples');
  });

  it('warns that a dataset is unused by the weight criteria', async () => {
    const { result } = await runPrune(model(), 'prune-channels{ratio=0.5 dataset=fashion-mnist:train}');
    expect(result.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.reason)).toEqual([
      "dataset 'fashion-mnist:train' is not used: only criterion=activation reads calibration data (this run scores by l1)",
    ]);
  });

  it('ratio 1 keeps one channel of each group', async () => {
    const m = model();
    const { statistics } = await runPrune(m, 'prune-channels{ratio=1}');
    expect(statistics['channels-removed']).toBe(3);
    expect(keptChannels(m)).toEqual([2]);
  });

  it('round-to keeps a multiple of the given count', async () => {
    const m = model();
    const { statistics } = await runPrune(m, 'prune-channels{ratio=0.75 round-to=2}');
    expect(statistics['channels-removed']).toBe(2);
    expect(keptChannels(m)).toEqual([0, 2]);
  });

  it('reports each group with its values, parameters and reasons', () => {
    const m = model();
    inferShapes(m, { mode: 'refresh' });
    const report = analyzeChannelDependencies(m).report();
    expect(report.map((g) => [g.channels, g.prunable])).toEqual([
      [4, true],
      [2, false],
    ]);
    expect(report[0]!.params).toEqual(['w1@0', 'gamma@0', 'beta@0', 'mean@0', 'var@0', 'w2@1']);
    expect(report[0]!.values).toEqual(['conv1_0', 'bn_0', 'relu_0']);
    expect(report[1]!.reasons).toEqual(["'conv2_0' is a graph output (its shape is part of the interface)"]);
  });
});

describe('reconstruct', () => {
  it('after two prune-channels aims at the unpruned model', async () => {
    const m = model();
    const { statistics } = await runPrune(m, 'prune-channels{ratio=0.5},prune-channels{ratio=0.5},reconstruct{samples=16}');
    expect(keptChannels(m)).toHaveLength(1);
    expect(statistics['layers-reconstructed']).toBe(1);
    const record = channelPruningRecord(m)!;
    expect(record.layers.map((layer) => layer.node)).toEqual(['conv2']);
    expect(decodeOnnx(record.original).graph.getValue('w1')!.constant!.shape).toEqual([4, 1, 1, 1]);
  });

  it('refuses to run without prune-channels before it in the pipeline', async () => {
    const error = await runPrune(model(), 'reconstruct').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelpassError);
    expect(String((error as Error).message)).toContain('reconstruct needs the model as it was before prune-channels');
  });
});
