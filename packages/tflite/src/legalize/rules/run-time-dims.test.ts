import { describe, expect, it } from 'vitest';
import { canSayMergedShape, mergedDim } from './run-time-dims.js';
import { transposeRuns } from './transpose-rank.js';

describe('mergedDim', () => {
  it('multiplies known dims, keeps a lone symbol, and is unknown otherwise', () => {
    expect(mergedDim([2, 3, 4])).toBe(24);
    expect(mergedDim([1, 'N', 1])).toBe('N');
    expect(mergedDim(['N', 2])).toBeNull();
    expect(mergedDim(['N', 'M'])).toBeNull();
  });
});

describe('canSayMergedShape', () => {
  it('takes one unknown merged dim (a -1), or one unknown dim per merged axis (SHAPE at run time)', () => {
    expect(canSayMergedShape(['N', 2, 3, 4], [[0, 1], [2, 3]])).toBe(true);
    expect(canSayMergedShape(['N', 2, 'M', 4], [[0, 1], [2, 3]])).toBe(true);
    expect(canSayMergedShape(['N', 'M', 3], [[0, 1], [2]])).toBe(true);
    expect(canSayMergedShape(['N', 'M', 'K', 2], [[0, 1], [2, 3]])).toBe(false);
  });
});

describe('transposeRuns', () => {
  it("merges swin's window partition with a symbolic batch into 4 axes", () => {
    expect(transposeRuns(['N', 8, 7, 8, 7, 96], [0, 1, 3, 2, 4, 5])).toEqual({ groups: [[0, 1], [2], [3], [4, 5]], perm: [0, 2, 1, 3] });
    expect(transposeRuns([null, 1, 3, 'M', 1, 5], [5, 3, 4, 0, 2, 1])).toEqual({ groups: [[0, 2], [3], [5]], perm: [2, 1, 0] });
  });
});
