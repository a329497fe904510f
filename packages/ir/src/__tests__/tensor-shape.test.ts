import { describe, expect, it } from 'vitest';
import { Tensor } from '@modelpass/ir';

describe('Tensor shapes', () => {
  it('are frozen copies with the element count of the shape given, whatever their rank', () => {
    for (const shape of [[], [0], [1], [3], [1023], [1024], [2.5 * 2], [2, 3], [1, 0, 4]]) {
      const given = [...shape];
      const tensor = Tensor.fromBytes('uint8', given, new Uint8Array(shape.reduce((a, b) => a * b, 1)));
      given.push(7);
      expect(tensor.shape).toEqual(shape);
      expect(Object.isFrozen(tensor.shape)).toBe(true);
      expect(tensor.size).toBe(shape.reduce((a, b) => a * b, 1));
      expect(() => (tensor.shape as number[]).push(1)).toThrow(TypeError);
    }
  });

  it('keeps the size through reshape and withQuant, and refuses a reshape to another count', () => {
    const tensor = Tensor.fromValues('int32', [6], [1, 2, 3, 4, 5, 6]);
    expect(tensor.reshape([2, 3]).size).toBe(6);
    expect(tensor.reshape([2, 3]).reshape([6]).shape).toEqual([6]);
    expect(tensor.withQuant({ scale: [1], zeroPoint: [0], bits: 8 }).size).toBe(6);
    expect(() => tensor.reshape([4])).toThrow('cannot reshape [6] to [4]');
    expect(Tensor.scalar('int64', 5).shape).toEqual([]);
    expect(Tensor.scalar('int64', 5).toNumbers()).toEqual([5]);
  });
});
