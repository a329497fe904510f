import { describe, expect, it } from 'vitest';
import { attrs, ModelpassError, tensorType } from '@modelpass/ir';
import { parseEinsum } from '@modelpass/ops';
import { f32, inferOp, runOp, values } from './math-helpers.js';

const eq = (equation: string) => ({ attributes: { equation: attrs.string(equation) } });

describe('Einsum', () => {
  const a = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  const b = f32([3, 2], [1, 0, 0, 1, 1, 1]);

  it('runs two-operand forms: matmul, implicit output, outer product', () => {
    expect(values(runOp('onnx.Einsum', [a, b], eq('ij,jk->ik'))[0]!)).toEqual([4, 5, 10, 11]);
    expect(values(runOp('onnx.Einsum', [a, b], eq('ij,jk'))[0]!)).toEqual([4, 5, 10, 11]);
    expect(runOp('onnx.Einsum', [f32([2], [1, 2]), f32([3], [1, 2, 3])], eq('i,j->ij'))[0]!.shape).toEqual([2, 3]);
  });

  it('runs one-operand forms: transpose, sum, trace, diagonal', () => {
    expect(values(runOp('onnx.Einsum', [a], eq('ij->ji'))[0]!)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(values(runOp('onnx.Einsum', [a], eq('ij->'))[0]!)).toEqual([21]);
    const square = f32([2, 2], [1, 2, 3, 4]);
    expect(values(runOp('onnx.Einsum', [square], eq('ii'))[0]!)).toEqual([5]);
    expect(values(runOp('onnx.Einsum', [square], eq('ii->i'))[0]!)).toEqual([1, 4]);
  });

  it('broadcasts ellipsis dims (batched matmul)', () => {
    const x = f32([2, 1, 2], [1, 2, 3, 4]);
    const y = f32([2, 1], [1, 1]);
    const [z] = runOp('onnx.Einsum', [x, y], eq('...ij,jk->...ik'));
    expect(z!.shape).toEqual([2, 1, 1]);
    expect(values(z!)).toEqual([3, 7]);
    expect(inferOp('onnx.Einsum', [tensorType('float32', ['B', 4, 5]), tensorType('float32', [5, 6])], eq('bij,jk->bik'))).toEqual([tensorType('float32', ['B', 4, 6])]);
  });

  it('says clearly which equations it rejects', () => {
    expect(() => parseEinsum('ij,jk->ik', [2])).toThrow(ModelpassError);
    expect(() => parseEinsum('i1->i', [2])).toThrow(/not a letter/);
    expect(() => parseEinsum('ij->ik', [2])).toThrow(/appears in no operand/);
    expect(() => runOp('onnx.Einsum', [a, a], eq('ij,jk->ik'))).toThrow(/sizes 3 and 2/);
  });
});
