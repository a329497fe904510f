import { describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { broadcastDim, broadcastIndexMap, broadcastShapes, normalizeAxes, normalizeAxis, reducedShape, roundHalfToEven, stridesOf } from '@modelpass/ops';

describe('shared shape utilities', () => {
  it('broadcasts numpy-style with symbolic dims', () => {
    expect(broadcastShapes([[2, 1, 4], [3, 1]])).toEqual([2, 3, 4]);
    expect(broadcastShapes([['N', 1], [1, 'C']])).toEqual(['N', 'C']);
    expect(broadcastShapes([['N', 4], ['M', 4]])).toEqual([null, 4]);
    expect(broadcastShapes([[null, 3], [5, 1]])).toEqual([5, 3]);
    expect(broadcastShapes([[2, 3], [4, 3]])).toBeUndefined();
    expect(broadcastShapes([[2, 3], null])).toBeNull();
    expect(broadcastShapes([[], [2]])).toEqual([2]);
    expect(broadcastDim('N', 'N')).toBe('N');
    expect(broadcastDim(1, 'N')).toBe('N');
  });

  it('maps output elements to broadcast input elements', () => {
    expect(Array.from(broadcastIndexMap([3, 1], [3, 2]))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(Array.from(broadcastIndexMap([2], [3, 2]))).toEqual([0, 1, 0, 1, 0, 1]);
    expect(Array.from(broadcastIndexMap([], [2, 2]))).toEqual([0, 0, 0, 0]);
    expect(stridesOf([2, 3, 4])).toEqual([12, 4, 1]);
  });

  it('normalizes axes and rejects bad ones with a ModelpassError', () => {
    expect(normalizeAxis(-1, 3)).toBe(2);
    expect(normalizeAxes([0, -1], 4)).toEqual([0, 3]);
    expect(() => normalizeAxis(3, 3)).toThrow(ModelpassError);
    expect(() => normalizeAxes([1, -3], 4)).toThrow(/repeats an axis/);
    expect(reducedShape(['N', 3, 4], [1], true)).toEqual(['N', 1, 4]);
    expect(reducedShape(['N', 3, 4], [0, 2], false)).toEqual([3]);
  });

  it('rounds halves to even', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6].map(roundHalfToEven)).toEqual([0, 2, 2, -0, -2, 2, -3]);
  });
});
