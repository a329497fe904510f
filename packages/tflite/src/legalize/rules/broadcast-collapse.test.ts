import { describe, expect, it } from 'vitest';
import { collapseBroadcast } from './broadcast-collapse.js';

describe('collapseBroadcast', () => {
  it("merges swin's attention mask broadcast [1,64,3,49,49] + [1,64,1,49,49] into 3 dims", () => {
    expect(collapseBroadcast([[1, 64, 3, 49, 49], [1, 64, 1, 49, 49]], [1, 64, 3, 49, 49])).toEqual({
      operandDims: [[64, 3, 2401], [64, 1, 2401]],
      outputDims: [64, 3, 2401],
      operandGroups: [[[1], [2], [3, 4]], [[1], [], [3, 4]]],
    });
  });

  it('aligns shorter operands to the right and drops size-1 output axes', () => {
    expect(collapseBroadcast([[2, 3, 4, 5, 6], [5, 1]], [2, 3, 4, 5, 6])).toEqual({
      operandDims: [[24, 5, 6], [1, 5, 1]],
      outputDims: [24, 5, 6],
      operandGroups: [[[0, 1, 2], [3], [4]], [[], [0], []]],
    });
    expect(collapseBroadcast([[1, 1, 1, 1, 1], [1]], [1, 1, 1, 1, 1])).toEqual({ operandDims: [[1], [1]], outputDims: [1], operandGroups: [[[]], [[]]] });
  });

  it('merges axes with symbolic dims: a symbol is kept where the output has it, or where every other operand is 1', () => {
    expect(collapseBroadcast([['N', 3, 4, 5, 6], [1, 3, 1, 5, 6]], ['N', 3, 4, 5, 6])?.operandDims).toEqual([['N', 3, 4, 30], [1, 3, 1, 30]]);
    expect(collapseBroadcast([[null, 4, 2, 16, 16], [1, 4, 1, 16, 16]], [null, 4, 2, 16, 16])?.operandDims).toEqual([[null, 4, 2, 256], [1, 4, 1, 256]]);
    expect(collapseBroadcast([['N', 4, 2, 5, 6], [1, 4, 'M', 5, 6]], ['N', 4, 'M', 5, 6])).toBeUndefined();
  });

  it('refuses alternating broadcasts that stay above 4 dims, unknown dims of unknown role and shapes that do not broadcast', () => {
    expect(collapseBroadcast([[2, 1, 2, 1, 2], [1, 2, 1, 2, 1]], [2, 2, 2, 2, 2])).toBeUndefined();
    expect(collapseBroadcast([[null, 3, 4, 5, 6], [1, 3, 1, 5, 6]], [null, 3, 4, 5, 6])?.outputDims).toEqual([null, 3, 4, 30]);
    expect(collapseBroadcast([[2, null, 4, 5, 6], [2, 3, 1, 5, 6]], [2, 3, 4, 5, 6])).toBeUndefined();
    expect(collapseBroadcast([[2, 3, 4, 5, 6], [1, 2, 1, 5, 6]], [2, 3, 4, 5, 6])).toBeUndefined();
  });
});
