/**
 * reconstruct on random CNN-shaped graphs (residuals, concats, depthwise and grouped convs, SE,
 * splits; seeded): after `prune-channels{ratio=0.5},reconstruct`, the model passes verify-each and
 * runs in ONNX Runtime with the original's output shapes, every pruned layer is refit or skipped
 * with a reason, and on held-out inputs the outputs are closer to the original's than without
 * reconstruction on most graphs (and on average).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { NormalEquations } from '@modelpass/prune';
import { runPrune } from './channels-harness.js';
import { Random, RandomCnn } from './channels-random-graphs.js';

afterAll(() => disposeSharedOrtRunner());

async function outputError(reference: Model, candidate: Model, seed: number): Promise<number> {
  const random = new Random(seed);
  let error = 0;
  let norm = 0;
  for (let i = 0; i < 4; i++) {
    const feeds = { x: Tensor.fromValues('float32', [1, 3, 8, 8], Array.from({ length: 192 }, () => random.next() * 2 - 1)) };
    const expected = await runOrt(reference, feeds);
    const actual = await runOrt(candidate, feeds);
    for (const [name, tensor] of expected) {
      const e = tensor.toNumbers();
      const a = actual.get(name)!.toNumbers();
      expect(actual.get(name)!.shape).toEqual(tensor.shape);
      for (let k = 0; k < e.length; k++) {
        error += (e[k]! - a[k]!) ** 2;
        norm += e[k]! ** 2;
      }
    }
  }
  return Math.sqrt(error / Math.max(norm, 1e-12));
}

describe('reconstruct on random graphs', () => {
  it('keeps models valid and brings outputs closer to the original', { timeout: 240_000 }, async () => {
    let better = 0;
    let graphs = 0;
    let sumPruned = 0;
    let sumFitted = 0;
    for (let seed = 1; graphs < 12; seed++) {
      const random = new Random(seed * 7919);
      const original = new RandomCnn(random).build(random.int(2, 4));
      const bytes = encodeOnnx(original);
      const pruned = decodeOnnx(bytes);
      const first = await runPrune(pruned, 'prune-channels{ratio=0.5}');
      if (!first.statistics['channels-removed']) continue;
      const fitted = decodeOnnx(bytes);
      const { statistics } = await runPrune(fitted, 'prune-channels{ratio=0.5},reconstruct{samples=48 seed=3}');
      expect((statistics['layers-reconstructed'] ?? 0) + (statistics['layers-skipped'] ?? 0)).toBeGreaterThan(0);
      const prunedError = await outputError(original, pruned, seed);
      const fittedError = await outputError(original, fitted, seed);
      graphs++;
      sumPruned += prunedError;
      sumFitted += fittedError;
      if (fittedError <= prunedError) better++;
    }
    console.log(`reconstruct on ${graphs} random graphs: mean relative output error ${(sumPruned / graphs).toFixed(3)} pruned → ${(sumFitted / graphs).toFixed(3)} reconstructed; closer on ${better}`);
    expect(better).toBeGreaterThanOrEqual(9);
    expect(sumFitted).toBeLessThan(sumPruned / 2);
  });
});

describe('NormalEquations', () => {
  it('recovers an exact linear map and its residual', () => {
    const system = new NormalEquations(3, 2);
    const random = new Random(5);
    const truth = [0.5, -1, 2, 0.25, -0.75, 1.5];
    for (let r = 0; r < 50; r++) {
      const x = [random.next(), random.next(), 1];
      system.addRow(x, [0, 1].map((k) => x.reduce((sum, xi, i) => sum + xi * truth[i * 2 + k]!, 0)));
    }
    const w = system.solve(0);
    w.forEach((value, i) => expect(value).toBeCloseTo(truth[i]!, 6));
    expect(system.relativeResidual(w)).toBeLessThan(1e-10);
    expect(system.relativeResidual(new Float64Array(6))).toBeCloseTo(1, 10);
  });

  it('solves a rank-deficient system (more features than rows) by raising the ridge', () => {
    const system = new NormalEquations(5, 1);
    system.addRow([1, 2, 3, 4, 5], [1]);
    system.addRow([1, 2, 3, 4, 5], [1]);
    const w = system.solve(0);
    expect(w.every(Number.isFinite)).toBe(true);
    expect(system.relativeResidual(w)).toBeLessThan(1e-6);
  });
});

describe('reconstruct on layers it cannot refit', () => {
  it('leaves a 1-D convolution with its pruned weights and says so', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', tensorType('float32', [1, 2, 8]));
    const random = new Random(3);
    const w = (shape: number[]) => g.constant(Tensor.fromValues('float32', shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.next() - 0.5)), 'w');
    const h = g.op1('onnx.Relu', [g.op1('onnx.Conv', [x, w([4, 2, 3])], { kernel_shape: attrs.ints([3]), pads: attrs.ints([1, 1]) }, { name: 'conv1' })], {}, { name: 'relu' });
    g.output(g.op1('onnx.Conv', [h, w([2, 4, 1])], { kernel_shape: attrs.ints([1]) }, { name: 'conv2' }));
    const model = g.model({ onnx: 17 });
    const { statistics, result } = await runPrune(model, 'prune-channels{ratio=0.5},reconstruct{samples=4}');
    expect(statistics['layers-skipped']).toBe(1);
    expect(result.diagnostics.map((d) => d.reason)).toContain("reconstruct: Conv 'conv2' is not a 2-D convolution with constant weights; the layer keeps its pruned weights");
    const out = await runOrt(model, { x: Tensor.fromValues('float32', [1, 2, 8], new Array(16).fill(0.5)) });
    expect([...out.values()][0]!.shape).toEqual([1, 2, 8]);
  });
});
