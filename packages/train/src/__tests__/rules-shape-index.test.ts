/** Data movement, indexing, softmax and reductions against finite differences. */
import { attrs, Tensor } from '@modelpass/ir';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { f64, gradCheck, randomTensor, seeded, type GradCheckCase } from './gradcheck.js';

const ints = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map(BigInt));

function check(build: GradCheckCase['build'], xShape: number[], outShape: number[], seed = 1): number {
  const rng = seeded(seed);
  return gradCheck({ build, feeds: { x: randomTensor(rng, xShape) }, lossFeeds: { target: randomTensor(rng, outShape) }, wrt: ['x'] }).maxRelError;
}

describe('shape rules', () => {
  it('Reshape, Flatten, Squeeze, Unsqueeze, Expand and Transpose', () => {
    expect(check((g) => g.op1('onnx.Reshape', [g.input('x', f64([2, 3, 2])), g.constant(ints([3, -1]), 's')]), [2, 3, 2], [3, 4])).toBeLessThan(1e-5);
    expect(check((g) => g.op1('onnx.Flatten', [g.input('x', f64([2, 3, 2]))], { axis: attrs.int(2) }), [2, 3, 2], [6, 2])).toBeLessThan(1e-5);
    expect(check((g) => g.op1('onnx.Squeeze', [g.input('x', f64([2, 1, 3])), g.constant(ints([1]), 'a')]), [2, 1, 3], [2, 3])).toBeLessThan(1e-5);
    expect(check((g) => g.op1('onnx.Unsqueeze', [g.input('x', f64([2, 3])), g.constant(ints([0, 3]), 'a')]), [2, 3], [1, 2, 3, 1])).toBeLessThan(1e-5);
    expect(check((g) => g.op1('onnx.Expand', [g.input('x', f64([3, 1])), g.constant(ints([2, 3, 4]), 's')]), [3, 1], [2, 3, 4])).toBeLessThan(1e-5);
    fc.assert(fc.property(fc.constantFrom([0, 1, 2], [2, 0, 1], [1, 2, 0], [2, 1, 0]), (perm) => {
      const shape = [2, 3, 4];
      expect(check((g) => g.op1('onnx.Transpose', [g.input('x', f64(shape))], { perm: attrs.ints(perm) }), shape, perm.map((p) => shape[p]!))).toBeLessThan(1e-5);
    }), { numRuns: 4 });
  });

  it('Concat and Split (a part whose output is unused gets zeros)', () => {
    const rng = seeded(2);
    const concat = gradCheck({
      build: (g) => g.op1('onnx.Concat', [g.input('a', f64([2, 1, 2])), g.input('b', f64([2, 3, 2]))], { axis: attrs.int(-2) }),
      feeds: { a: randomTensor(rng, [2, 1, 2]), b: randomTensor(rng, [2, 3, 2]) }, lossFeeds: { target: randomTensor(rng, [2, 4, 2]) }, wrt: ['a', 'b'],
    });
    expect(concat.maxRelError).toBeLessThan(1e-5);
    expect(check((g) => {
      const [first] = g.op('onnx.Split', [g.input('x', f64([5, 2])), g.constant(ints([2, 3]), 'sizes')], { axis: attrs.int(0) }, { outputs: 2 });
      return first!;
    }, [5, 2], [2, 2])).toBeLessThan(1e-5);
  });
});

describe('indexing rules', () => {
  it('Gather with repeated and negative indices (embedding lookup) adds the gradients of repeats', () => {
    expect(check((g) => g.op1('onnx.Gather', [g.input('x', f64([4, 3])), g.constant(Tensor.fromValues('int64', [2, 3], [0n, 2n, 0n, -1n, 2n, 2n]), 'i')], { axis: attrs.int(0) }), [4, 3], [2, 3, 3])).toBeLessThan(1e-5);
    expect(check((g) => g.op1('onnx.Gather', [g.input('x', f64([2, 4])), g.constant(Tensor.scalar('int64', 1n), 'i')], { axis: attrs.int(1) }), [2, 4], [2])).toBeLessThan(1e-5);
  });

  it('Slice with steps, negative bounds and axes', () => {
    expect(check((g) => g.op1('onnx.Slice', [g.input('x', f64([3, 6])), g.constant(ints([-1, 1]), 'st'), g.constant(ints([-4, 6]), 'en'), g.constant(ints([0, 1])), g.constant(ints([-1, 2]))]), [3, 6], [3, 3])).toBeLessThan(1e-5);
  });
});

describe('softmax and reduction rules', () => {
  it('Softmax and LogSoftmax along any axis', () => {
    for (const axis of [-1, 0, 1]) {
      expect(check((g) => g.op1('onnx.Softmax', [g.input('x', f64([2, 3, 2]))], { axis: attrs.int(axis) }), [2, 3, 2], [2, 3, 2], axis + 5)).toBeLessThan(1e-5);
      expect(check((g) => g.op1('onnx.LogSoftmax', [g.input('x', f64([2, 3, 2]))], { axis: attrs.int(axis) }), [2, 3, 2], [2, 3, 2], axis + 9)).toBeLessThan(1e-5);
    }
  });

  it('ReduceMean (axes attribute, opset 13) and ReduceSum (axes input) with and without keepdims', () => {
    for (const keepdims of [0, 1]) {
      const out = keepdims ? [2, 1, 4] : [2, 4];
      expect(check((g) => g.op1('onnx.ReduceMean', [g.input('x', f64([2, 3, 4]))], { axes: attrs.ints([-2]), keepdims: attrs.int(keepdims) }), [2, 3, 4], out)).toBeLessThan(1e-5);
      expect(check((g) => g.op1('onnx.ReduceSum', [g.input('x', f64([2, 3, 4])), g.constant(ints([1]), 'axes')], { keepdims: attrs.int(keepdims) }), [2, 3, 4], out)).toBeLessThan(1e-5);
    }
    expect(check((g) => g.op1('onnx.ReduceMean', [g.input('x', f64([2, 3]))], { keepdims: attrs.int(0) }), [2, 3], [])).toBeLessThan(1e-5);
  });
});
