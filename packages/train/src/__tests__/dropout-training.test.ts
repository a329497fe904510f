/**
 * Training-mode Dropout: written out as x · mask with the mask fed as an input (seeded, PyTorch's
 * inverted scaling). Gradients against finite differences through the written-out graph; the masks
 * drop the asked fraction, are repeatable for (seed, step) and differ between steps; a model with
 * Dropout trains in ONNX Runtime with the masks applied (the loss differs from the dropout-free run).
 */
import { attrs, GraphBuilder, ModelpassError, Tensor } from '@modelpass/ir';
import { buildGradientGraph, fillDropoutMask, trainSteps } from '@modelpass/train';
import { describe, expect, it } from 'vitest';
import { f64, gradCheck, randomTensor, seeded } from './gradcheck.js';

function mlpWithDropout(b: GraphBuilder, ratio: number, training?: boolean) {
  const rng = seeded(4);
  const x = b.input('x', f64([3, 5]));
  const h = b.op1('onnx.Relu', [b.op1('onnx.Gemm', [x, b.constant(randomTensor(rng, [6, 5]), 'w1'), b.constant(randomTensor(rng, [6]), 'b1')], { transB: attrs.int(1) })]);
  const inputs = [h, b.constant(Tensor.scalar('float64', ratio), 'ratio'), ...(training === undefined ? [] : [b.constant(Tensor.scalar('bool', training), 'training')])];
  const [dropped] = b.op('onnx.Dropout', inputs, {}, { outputs: 1, name: 'drop' });
  return b.op1('onnx.Gemm', [dropped!, b.constant(randomTensor(rng, [4, 6]), 'w2')], { transB: attrs.int(1) });
}

describe('training-mode Dropout', () => {
  for (const [ratio, training] of [[0.5, undefined], [0.3, true], [0.7, false]] as const) {
    it(`ratio ${ratio}, training_mode ${String(training)}: gradients match finite differences with the mask applied`, () => {
      const rng = seeded(9);
      const result = gradCheck({
        build: (b) => mlpWithDropout(b, ratio, training), feeds: { x: randomTensor(rng, [3, 5]) }, lossFeeds: { target: randomTensor(rng, [3, 4]) },
        wrt: ['x', 'w1', 'b1', 'w2'], dropoutSeed: 17,
      });
      expect(result.checked).toBe(15 + 30 + 6 + 24);
      expect(result.maxRelError).toBeLessThan(1e-5);
    });
  }

  it('the graph reads a mask input per Dropout; gradients of dropped units are 0', () => {
    const b = new GraphBuilder();
    b.output(mlpWithDropout(b, 0.5));
    const graph = buildGradientGraph(b.model({ onnx: 17 }), { loss: { kind: 'mse' }, dropout: 'train' });
    expect(graph.dropoutMasks).toEqual([{ input: 'dropout_mask.drop', node: 'drop', ratio: 0.5, sampleShape: [6] }]);
    expect(graph.lossInputs).toEqual(['target']);
    expect([...graph.model.graph.nodesOf('onnx.Dropout')]).toHaveLength(0);
  });

  it('masks drop the asked fraction, scale the rest by 1/(1 − p), repeat for (seed, step) and change between steps', () => {
    const a = new Float32Array(100_000);
    fillDropoutMask(a, 0.3, 5, 7, 0);
    const zeros = a.filter((v) => v === 0).length / a.length;
    expect(Math.abs(zeros - 0.3)).toBeLessThan(0.01);
    expect(new Set(a)).toEqual(new Set([0, Math.fround(1 / 0.7)]));
    const again = new Float32Array(a.length);
    fillDropoutMask(again, 0.3, 5, 7, 0);
    expect(again).toEqual(a);
    const next = new Float32Array(a.length);
    fillDropoutMask(next, 0.3, 5, 8, 0);
    expect(next).not.toEqual(a);
  });

  it('trains in ONNX Runtime with the masks applied (float32)', async () => {
    const b = new GraphBuilder();
    const rng = seeded(2);
    const x = b.input('x', { kind: 'tensor', dtype: 'float32', shape: ['N', 5] });
    const w = (name: string, shape: number[]) => b.constant(Tensor.fromValues('float32', shape, randomTensor(rng, shape).toNumbers()), name);
    const h = b.op1('onnx.Relu', [b.op1('onnx.Gemm', [x, w('w1', [16, 5]), w('b1', [16])], { transB: attrs.int(1) })]);
    const [dropped] = b.op('onnx.Dropout', [h, b.constant(Tensor.scalar('float32', 0.5), 'ratio')], {}, { outputs: 1, name: 'drop' });
    b.output(b.op1('onnx.Gemm', [dropped!, w('w2', [3, 16])], { transB: attrs.int(1) }));
    const model = b.model({ onnx: 17 });
    const batches = Array.from({ length: 4 }, (_, i) => ({
      inputs: { x: Tensor.fromValues('float32', [8, 5], randomTensor(seeded(i + 1), [8, 5]).toNumbers()) },
      lossInputs: { labels: Tensor.fromValues('int64', [8], Array.from({ length: 8 }, (_, k) => BigInt(k % 3))) },
    }));
    const withDropout = await trainSteps(model, batches, { lr: 0.1, seed: 1 });
    const again = await trainSteps(model, batches, { lr: 0.1, seed: 1 });
    const without = await trainSteps(model, batches, { lr: 0.1, dropout: 'inference' });
    expect(withDropout.losses).toEqual(again.losses);
    expect(withDropout.losses[0]).not.toBeCloseTo(without.losses[0]!, 6);
    expect(withDropout.losses.every(Number.isFinite)).toBe(true);
  });

  it('refuses a Dropout whose ratio is computed at run time, naming it', () => {
    const b = new GraphBuilder();
    const x = b.input('x', f64([2, 3]));
    const [y] = b.op('onnx.Dropout', [x, b.input('r', f64([]))], {}, { outputs: 1, name: 'drop' });
    b.output(y!);
    expect(() => buildGradientGraph(b.model({ onnx: 17 }), { loss: { kind: 'mse' }, wrt: ['x'], dropout: 'train' })).toThrow(ModelpassError);
    expect(() => buildGradientGraph(b.model({ onnx: 17 }), { loss: { kind: 'mse' }, wrt: ['x'], dropout: 'train' })).toThrow(/Dropout 'drop': its ratio is computed at run time/);
  });
});
