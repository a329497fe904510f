import { describe, expect, it } from 'vitest';
import { transposedOrder } from '@modelpass/ops';

/** The source index of each output element, from the definition: out[i0..ik] = x[j] with j_{perm[a]} = i_a. */
function byDefinition(shape: readonly number[], perm: readonly number[]): number[] {
  const outShape = perm.map((axis) => shape[axis]!);
  const count = shape.reduce((n, d) => n * d, 1);
  const order: number[] = [];
  for (let flat = 0; flat < count; flat++) {
    const outIndex = new Array<number>(outShape.length);
    for (let axis = outShape.length - 1, rest = flat; axis >= 0; axis--) {
      outIndex[axis] = rest % outShape[axis]!;
      rest = Math.floor(rest / outShape[axis]!);
    }
    const inIndex = new Array<number>(shape.length);
    perm.forEach((axis, a) => (inIndex[axis] = outIndex[a]!));
    order.push(inIndex.reduce((source, i, axis) => source * shape[axis]! + i, 0));
  }
  return order;
}

describe('transposedOrder', () => {
  it('lists, per element of the transposed matrix, the element of the source it holds', () => {
    // [[0,1,2],[3,4,5]] transposed is [[0,3],[1,4],[2,5]].
    expect(Array.from(transposedOrder([2, 3], [1, 0]))).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it.each([
    [[2, 3, 4], [2, 0, 1]],
    [[3, 1, 2, 5], [0, 2, 3, 1]],
    [[2, 3, 2, 2, 3], [4, 3, 2, 1, 0]],
    [[4, 5], [0, 1]],
  ])('agrees with the definition for shape %j and perm %j', (shape, perm) => {
    expect(Array.from(transposedOrder(shape, perm))).toEqual(byDefinition(shape, perm));
  });

  it('has one element for a scalar and none for a shape with a zero dim', () => {
    expect(Array.from(transposedOrder([], []))).toEqual([0]);
    expect(transposedOrder([2, 0, 3], [2, 1, 0]).length).toBe(0);
  });
});
