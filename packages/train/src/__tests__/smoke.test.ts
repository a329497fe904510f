import { attrs } from '@modelpass/ir';
import { describe, expect, it } from 'vitest';
import { f64, gradCheck, randomTensor, seeded } from './gradcheck.js';

describe('smoke', () => {
  it('gemm relu', () => {
    const rng = seeded(1);
    const result = gradCheck({
      build: (b) => {
        const x = b.input('x', f64([2, 3]));
        const w = b.constant(randomTensor(rng, [4, 3]), 'w');
        const c = b.constant(randomTensor(rng, [4]), 'c');
        return b.op1('onnx.Relu', [b.op1('onnx.Gemm', [x, w, c], { transB: attrs.int(1) })]);
      },
      feeds: { x: randomTensor(rng, [2, 3]) },
      lossFeeds: { target: randomTensor(rng, [2, 4]) },
      wrt: ['x', 'w', 'c'],
    });
    expect(result.maxRelError).toBeLessThan(1e-5);
  });
});
