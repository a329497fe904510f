/** LayerNormalization, LeakyRelu, HardSigmoid, HardSwish, Gelu, Where and Sum against finite differences. */
import { attrs, Tensor } from '@modelpass/ir';
import { describe, expect, it } from 'vitest';
import { f64, gradCheck, randomTensor, seeded } from './gradcheck.js';

describe('more rules', () => {
  it('LayerNormalization (opset 17 and 18) over the last one or two axes, with scale and bias', () => {
    for (const [opset, axis] of [[17, -1], [18, 1], [17, 2]] as const) {
      const rng = seeded(opset + axis);
      const norm = [2, 3, 4].slice(axis < 0 ? 3 + axis : axis);
      const result = gradCheck({
        opset,
        build: (g) => g.op1('onnx.LayerNormalization', [g.input('x', f64([2, 3, 4])), g.input('scale', f64(norm)), g.input('bias', f64(norm))], { axis: attrs.int(axis), epsilon: attrs.float(1e-3) }),
        feeds: { x: randomTensor(rng, [2, 3, 4]), scale: randomTensor(rng, norm), bias: randomTensor(rng, norm) },
        lossFeeds: { target: randomTensor(rng, [2, 3, 4]) }, wrt: ['x', 'scale', 'bias'],
      });
      expect(result.maxRelError).toBeLessThan(1e-5);
    }
  });

  it('LeakyRelu, HardSigmoid, HardSwish and Gelu (opset 20)', () => {
    const x = Tensor.fromValues('float64', [8], [-4.1, -2.5, -1.2, -0.3, 0.4, 1.7, 2.6, 3.4]);
    for (const [op, attributes, opset] of [
      ['LeakyRelu', { alpha: attrs.float(0.1) }, 17], ['HardSigmoid', { alpha: attrs.float(0.3) }, 17], ['HardSwish', {}, 17], ['Gelu', {}, 20],
    ] as const) {
      const rng = seeded(op.length);
      // The reference HardSigmoid rounds alpha·x + beta to float32 (as ORT does), so its finite
      // differences take a wider step (no test point is within 1e-2 of a kink) and a wider tolerance.
      const float32Kernel = op === 'HardSigmoid';
      const result = gradCheck({
        opset, build: (g) => g.op1(`onnx.${op}`, [g.input('x', f64([8]))], attributes),
        feeds: { x }, lossFeeds: { target: randomTensor(rng, [8]) }, wrt: ['x'],
      }, float32Kernel ? 1e-2 : 1e-6);
      expect(result.maxRelError, op).toBeLessThan(float32Kernel ? 1e-4 : 1e-5);
    }
  });

  it('Where and Sum with broadcasting', () => {
    const rng = seeded(12);
    const where = gradCheck({
      build: (g) => g.op1('onnx.Where', [g.constant(Tensor.fromValues('bool', [2, 3], [true, false, true, false, false, true]), 'c'), g.input('a', f64([2, 3])), g.input('b', f64([3]))]),
      feeds: { a: randomTensor(rng, [2, 3]), b: randomTensor(rng, [3]) }, lossFeeds: { target: randomTensor(rng, [2, 3]) }, wrt: ['a', 'b'],
    });
    expect(where.maxRelError).toBeLessThan(1e-5);
    const sum = gradCheck({
      build: (g) => g.op1('onnx.Sum', [g.input('a', f64([2, 3])), g.input('b', f64([1, 3])), g.input('c', f64([2, 1]))]),
      feeds: { a: randomTensor(rng, [2, 3]), b: randomTensor(rng, [1, 3]), c: randomTensor(rng, [2, 1]) }, lossFeeds: { target: randomTensor(rng, [2, 3]) }, wrt: ['a', 'b', 'c'],
    });
    expect(sum.maxRelError).toBeLessThan(1e-5);
  });
});
