import { describe, expect, it } from 'vitest';
import { collapseBroadcast } from './broadcast-collapse.js';

describe('collapseBroadcast', () => {
  it("merges swin's attention mask broadcast [1,64,3,49,49] + [1,64,1,49,49] into 3 dims", () => {
    expect(collapseBroadcast([[1, 64, 3, 49, 49], [1, 64, 1, 49, 49]], [1, 64, 3, 49, 49])).toEqual({
      operandDims: [[64, 3, 2401], [64, 1, 2401]],
      outputDims: [64, 3, 2401],
    });
  });

  it('aligns shorter operands to the right and drops size-1 output axes', () => {
    expect(collapseBroadcast([[2, 3, 4, 5, 6], [5, 1]], [2, 3, 4, 5, 6])).toEqual({
      operandDims: [[24, 5, 6], [1, 5, 1]],
      outputDims: [24, 5, 6],
    });
    expect(collapseBroadcast([[1, 1, 1, 1, 1], [1]], [1, 1, 1, 1, 1])).toEqual({ operandDims: [[1], [1]], outputDims: [1] });
  });

  it('refuses alternating broadcasts that stay above 4 dims, unknown dims and shapes that do not broadcast', () => {
    expect(collapseBroadcast([[2, 1, 2, 1, 2], [1, 2, 1, 2, 1]], [2, 2, 2, 2, 2])).toBeUndefined();
    expect(collapseBroadcast([['N', 3, 4, 5, 6], [1, 3, 1, 5, 6]], ['N', 3, 4, 5, 6])).toBeUndefined();
    expect(collapseBroadcast([[2, 3, 4, 5, 6], [1, 2, 1, 5, 6]], [2, 3, 4, 5, 6])).toBeUndefined();
  });
});
