/** Gemm (every transA/transB, alpha, beta, broadcast C) and MatMul (batch broadcasting, 1-D operands) against finite differences. */
import { attrs } from '@modelpass/ir';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { f64, gradCheck, randomTensor, seeded } from './gradcheck.js';

describe('Gemm', () => {
  it('matches finite differences for every transpose, alpha, beta and bias shape', () => {
    fc.assert(fc.property(
      fc.record({ m: fc.integer({ min: 1, max: 3 }), k: fc.integer({ min: 1, max: 3 }), n: fc.integer({ min: 1, max: 3 }),
        transA: fc.boolean(), transB: fc.boolean(), alpha: fc.constantFrom(1, 0.5), beta: fc.constantFrom(1, 2),
        bias: fc.constantFrom('none', 'n', '1n', 'mn') }),
      fc.integer({ min: 1, max: 1000 }),
      ({ m, k, n, transA, transB, alpha, beta, bias }, seed) => {
        const rng = seeded(seed);
        const aShape = transA ? [k, m] : [m, k];
        const bShape = transB ? [n, k] : [k, n];
        const cShape = bias === 'n' ? [n] : bias === '1n' ? [1, n] : [m, n];
        const result = gradCheck({
          build: (g) => {
            const inputs = [g.input('a', f64(aShape)), g.input('b', f64(bShape))];
            if (bias !== 'none') inputs.push(g.input('c', f64(cShape)));
            return g.op1('onnx.Gemm', inputs, { transA: attrs.int(transA ? 1 : 0), transB: attrs.int(transB ? 1 : 0), alpha: attrs.float(alpha), beta: attrs.float(beta) });
          },
          feeds: { a: randomTensor(rng, aShape), b: randomTensor(rng, bShape), ...(bias === 'none' ? {} : { c: randomTensor(rng, cShape) }) },
          lossFeeds: { target: randomTensor(rng, [m, n]) },
          wrt: bias === 'none' ? ['a', 'b'] : ['a', 'b', 'c'],
        });
        expect(result.maxRelError).toBeLessThan(1e-5);
      }), { numRuns: 10, seed: 5 });
  });
});

describe('MatMul', () => {
  const cases: [number[], number[], number[]][] = [
    [[2, 3], [3, 4], [2, 4]],
    [[2, 2, 3], [3, 4], [2, 2, 4]],
    [[2, 1, 2, 3], [3, 3, 2], [2, 3, 2, 2]],
    [[3], [2, 3, 4], [2, 4]],
    [[2, 3], [3], [2]],
    [[3], [3], []],
  ];
  for (const [a, b, out] of cases) {
    it(`[${a}] × [${b}] matches finite differences`, () => {
      const rng = seeded(a.length * 10 + b.length);
      const result = gradCheck({
        build: (g) => g.op1('onnx.MatMul', [g.input('a', f64(a)), g.input('b', f64(b))]),
        feeds: { a: randomTensor(rng, a), b: randomTensor(rng, b) },
        lossFeeds: { target: randomTensor(rng, out) },
        wrt: ['a', 'b'],
      });
      expect(result.maxRelError).toBeLessThan(1e-5);
    });
  }
});
