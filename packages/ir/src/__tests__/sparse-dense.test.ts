import { describe, expect, it } from 'vitest';
import { denseOfSparse, Tensor } from '@modelpass/ir';

const i64 = (shape: number[], values: number[]): Tensor => Tensor.fromValues('int64', shape, values.map(BigInt));

describe('denseOfSparse', () => {
  it('places values at linearized or coordinate indices, zeros elsewhere', () => {
    const values = Tensor.fromValues('float32', [3], [1.5, -2, 4]);
    const linear = denseOfSparse({ values, indices: i64([3], [0, 4, 5]), dims: [2, 3] });
    expect(linear.shape).toEqual([2, 3]);
    expect(linear.toNumbers()).toEqual([1.5, 0, 0, 0, -2, 4]);
    const coordinates = denseOfSparse({ values, indices: i64([3, 2], [0, 0, 1, 1, 1, 2]), dims: [2, 3] });
    expect(coordinates.toNumbers()).toEqual([1.5, 0, 0, 0, -2, 4]);
  });

  it('refuses an index outside the dims, naming it', () => {
    const values = Tensor.fromValues('float32', [1], [1]);
    expect(() => denseOfSparse({ values, indices: i64([1], [6]), dims: [2, 3] })).toThrow('sparse index 0 (6) is outside the 6 elements of [2,3]');
    expect(() => denseOfSparse({ values, indices: i64([1, 2], [0, 3]), dims: [2, 3] })).toThrow('axis 1: 3');
  });
});
