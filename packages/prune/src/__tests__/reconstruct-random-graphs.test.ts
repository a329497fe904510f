/**
 * reconstruct on random CNN-shaped graphs (residuals, concats, depthwise and grouped convs, SE,
 * splits; seeded): after `prune-channels{ratio=0.5},reconstruct`, the model passes verify-each and
 * runs in ONNX Runtime with the original's output shapes, every pruned layer is refit or skipped
 * with a reason, and on held-out inputs the outputs are closer to the original's than without
 * reconstruction on most graphs (and on average).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, type Model } from '@modelpass/ir';
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
