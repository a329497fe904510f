/** Unary and broadcasting binary rules against central finite differences (reference interpreter, float64). */
import { attrs, Tensor } from '@modelpass/ir';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { f64, gradCheck, randomTensor, seeded } from './gradcheck.js';

const unaryOps: Record<string, { offset?: number; attributes?: Record<string, ReturnType<typeof attrs.float>> }> = {
  Relu: {}, Sigmoid: {}, Tanh: {}, Erf: {}, Exp: {}, Neg: {}, Identity: {}, Dropout: {},
  Sqrt: { offset: 2 }, Log: { offset: 2 },
};

describe('unary element-wise rules', () => {
  for (const [op, { offset }] of Object.entries(unaryOps)) {
    it(`${op} matches finite differences`, () => {
      const rng = seeded(op.length * 7);
      const x = randomTensor(rng, [2, 3], 1, offset ?? 0);
      const result = gradCheck({
        build: (b) => b.op1(`onnx.${op}`, [b.input('x', f64([2, 3]))]),
        feeds: { x }, lossFeeds: { target: randomTensor(rng, [2, 3]) }, wrt: ['x'],
      });
      expect(result.checked).toBe(6);
      expect(result.maxRelError).toBeLessThan(1e-5);
    });
  }

  it('Clip (min/max inputs) and Pow by a constant exponent match finite differences', () => {
    const rng = seeded(3);
    const clip = gradCheck({
      build: (b) => {
        const x = b.input('x', f64([7]));
        return b.op1('onnx.Clip', [x, b.constant(Tensor.scalar('float64', -0.4), 'lo'), b.constant(Tensor.scalar('float64', 0.5), 'hi')]);
      },
      feeds: { x: Tensor.fromValues('float64', [7], [-0.9, -0.3, 0.1, 0.45, 0.7, -0.5, 0.2]) },
      lossFeeds: { target: randomTensor(rng, [7]) }, wrt: ['x'],
    });
    expect(clip.maxRelError).toBeLessThan(1e-5);
    const pow = gradCheck({
      build: (b) => b.op1('onnx.Pow', [b.input('x', f64([2, 3])), b.constant(Tensor.scalar('float64', 3), 'e')]),
      feeds: { x: randomTensor(rng, [2, 3]) }, lossFeeds: { target: randomTensor(rng, [2, 3]) }, wrt: ['x'],
    });
    expect(pow.maxRelError).toBeLessThan(1e-5);
  });
});

describe('broadcasting binary rules', () => {
  /** Random broadcast-compatible pairs: B is A's shape with some dims set to 1 and some leading dims dropped. */
  const shapes = fc.tuple(
    fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
    fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    fc.integer({ min: 0, max: 2 }),
    fc.boolean(),
  ).map(([a, ones, drop, swap]) => {
    const b = a.map((d, i) => (ones[i] ? 1 : d)).slice(Math.min(drop, a.length - 1));
    return swap ? { a: b, b: a } : { a, b };
  });

  for (const op of ['Add', 'Sub', 'Mul', 'Div']) {
    it(`${op} with broadcasting matches finite differences`, () => {
      fc.assert(fc.property(shapes, fc.integer({ min: 1, max: 1000 }), ({ a, b }, seed) => {
        const rng = seeded(seed);
        const out = a.length >= b.length ? a.map((d, i) => Math.max(d, b[i - (a.length - b.length)] ?? 1)) : b.map((d, i) => Math.max(d, a[i - (b.length - a.length)] ?? 1));
        const result = gradCheck({
          build: (g) => g.op1(`onnx.${op}`, [g.input('a', f64(a)), g.input('b', f64(b))]),
          feeds: { a: randomTensor(rng, a), b: randomTensor(rng, b, 1, op === 'Div' ? 2.5 : 0) },
          lossFeeds: { target: randomTensor(rng, out) },
          wrt: ['a', 'b'],
        });
        expect(result.maxRelError).toBeLessThan(1e-5);
      }), { numRuns: 6, seed: 11 });
    });
  }
});
