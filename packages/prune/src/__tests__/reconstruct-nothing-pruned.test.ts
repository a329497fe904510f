/**
 * `prune-channels,reconstruct{…}` on a model where prune-channels finds nothing prunable (QA s17 round 13: a torch
 * attention + LSTM text model, every group left whole with its reason): reconstruct failed with "this model was not
 * pruned by prune-channels in this pipeline", which it was. Now prune-channels leaves an empty record and
 * reconstruct says there is nothing to refit (an info line) and changes nothing; reconstruct with no prune-channels
 * before it is still refused, and a later prune-channels that does prune is reconstructed against the model it pruned.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, ModelpassError, Tensor, tensorType, type Model } from '@modelpass/ir';
import { runPrune } from './channels-harness.js';

function weights(shape: number[], seed: number): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromValues('float32', shape, Array.from({ length: count }, (_, i) => Math.sin(seed * 3.7 + i * 0.9)));
}

/** x[1,6] → Gemm(6→8) → Relu → Gemm(8→3) = y. */
function mlp(): Model {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', [1, 6]));
  const hidden = g.op1('onnx.Gemm', [x, g.constant(weights([8, 6], 1), 'w1'), g.constant(weights([8], 2), 'b1')], { transB: { kind: 'int', value: 1 } }, { name: 'fc1' });
  const relu = g.op1('onnx.Relu', [hidden], {}, { name: 'relu' });
  g.output(g.op1('onnx.Gemm', [relu, g.constant(weights([3, 8], 3), 'w2'), g.constant(weights([3], 4), 'b2')], { transB: { kind: 'int', value: 1 } }, { name: 'fc2', outputs: ['y'] }));
  return g.model({ onnx: 17 });
}

describe('reconstruct after a prune-channels that removed nothing', () => {
  it('is a no-op with an info line, not an error', async () => {
    const model = mlp();
    const before = ['w1', 'b1', 'w2', 'b2'].map((name) => model.graph.getValue(name)!.constant!.toNumbers());
    // ratio 0.1 of 8 channels removes less than one: the only prunable group is left whole
    const { statistics, result } = await runPrune(model, 'prune-channels{ratio=0.1},reconstruct{samples=4}');
    expect(statistics['channels-removed'] ?? 0).toBe(0);
    expect(result.diagnostics.map((d) => d.reason)).toContain('reconstruct: nothing to refit: prune-channels removed no channel in this pipeline');
    expect(['w1', 'b1', 'w2', 'b2'].map((name) => model.graph.getValue(name)!.constant!.toNumbers())).toEqual(before);
  });

  it('still refuses reconstruct without prune-channels before it', async () => {
    const error = await runPrune(mlp(), 'reconstruct{samples=4}').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelpassError);
    expect(String((error as Error).message)).toMatch(/was not pruned by prune-channels in this pipeline/);
  });

  it('a second prune-channels that prunes is reconstructed against the model it pruned', async () => {
    const model = mlp();
    const { statistics, result } = await runPrune(model, 'prune-channels{ratio=0.1},prune-channels{ratio=0.5},reconstruct{samples=16}');
    expect(statistics['channels-removed']).toBe(4);
    expect(statistics['layers-reconstructed']).toBe(1);
    expect(result.diagnostics.map((d) => d.reason)).not.toContain('reconstruct: nothing to refit: prune-channels removed no channel in this pipeline');
  });
});
