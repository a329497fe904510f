import { describe, expect, it } from 'vitest';
import { reduceTranspose } from './transpose-rank.js';

/** Row-major transpose of 0..n-1, the reference the reduced form must reproduce. */
function transposed(dims: readonly number[], perm: readonly number[]): number[] {
  const size = dims.reduce((n, d) => n * d, 1);
  const strides = dims.map((_, axis) => dims.slice(axis + 1).reduce((n, d) => n * d, 1));
  const outDims = perm.map((axis) => dims[axis]!);
  const out: number[] = [];
  for (let flat = 0; flat < size; flat++) {
    let rest = flat;
    let source = 0;
    for (let k = outDims.length - 1; k >= 0; k--) {
      const index = rest % outDims[k]!;
      rest = Math.floor(rest / outDims[k]!);
      source += index * strides[perm[k]!]!;
    }
    out.push(source);
  }
  return out;
}

describe('reduceTranspose', () => {
  it("says swin's rank-6 window partition on 4 axes", () => {
    expect(reduceTranspose([1, 8, 7, 8, 7, 96], [0, 1, 3, 2, 4, 5])).toEqual({ dims: [8, 7, 8, 672], perm: [0, 2, 1, 3] });
  });

  it('moves the same elements as the transpose it stands for', () => {
    const cases: [number[], number[]][] = [
      [[1, 2, 3, 2, 3, 4], [0, 1, 3, 2, 4, 5]],
      [[2, 1, 3, 4, 1, 5], [5, 3, 4, 0, 2, 1]],
      [[2, 3, 4, 5, 6, 2], [1, 2, 0, 4, 5, 3]],
      [[1, 1, 1], [2, 0, 1]],
      [[2, 3, 4], [0, 1, 2]],
    ];
    for (const [dims, perm] of cases) {
      const reduced = reduceTranspose(dims, perm);
      expect(transposed(reduced.dims, reduced.perm), `${dims} by ${perm}`).toEqual(transposed(dims, perm));
    }
    expect(reduceTranspose([2, 3, 4], [0, 1, 2])).toEqual({ dims: [24], perm: [0] });
    expect(reduceTranspose([1, 1, 1], [2, 0, 1])).toEqual({ dims: [], perm: [] });
  });
});
