import { describe, expect, it } from 'vitest';
import { attrs, Tensor, tensorType } from '@modelpass/ir';
import { f32, i64, inferOp, runOp, values } from './math-helpers.js';

const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);

describe('reductions', () => {
  it('takes axes as an attribute before the opset that moved them to an input', () => {
    const [attr] = runOp('onnx.ReduceMean', [x], { opset: 17, attributes: { axes: attrs.ints([1]), keepdims: attrs.int(0) } });
    expect(attr!.shape).toEqual([2]);
    expect(values(attr!)).toEqual([2, 5]);
    const [input] = runOp('onnx.ReduceMean', [x, i64([1], [-1])], { opset: 18 });
    expect(input!.shape).toEqual([2, 1]);
    const [sum] = runOp('onnx.ReduceSum', [x, i64([1], [0])], { opset: 13, attributes: { keepdims: attrs.int(0) } });
    expect(values(sum!)).toEqual([5, 7, 9]);
  });

  it('reduces everything without axes, or nothing with noop_with_empty_axes', () => {
    expect(values(runOp('onnx.ReduceSum', [x])[0]!)).toEqual([21]);
    expect(runOp('onnx.ReduceSum', [x])[0]!.shape).toEqual([1, 1]);
    const [noop] = runOp('onnx.ReduceSum', [x, i64([0], [])], { attributes: { noop_with_empty_axes: attrs.int(1) } });
    expect(noop!.shape).toEqual([2, 3]);
  });

  it('applies the element-wise part with noop_with_empty_axes and no axes, as ONNX Runtime does', () => {
    const data = f32([2, 3], [-2, 0.5, 1e20, -1e-30, 3, -0]);
    const noop = (op: string, withAxes = true) => {
      const [y] = runOp(op, withAxes ? [data, i64([0], [])] : [data], { attributes: { noop_with_empty_axes: attrs.int(1), keepdims: attrs.int(0) } });
      expect(y!.shape).toEqual([2, 3]);
      return values(y!) as number[];
    };
    const f = Math.fround;
    expect(noop('onnx.ReduceL1')).toEqual([2, 0.5, f(1e20), f(1e-30), 3, 0]);
    expect(noop('onnx.ReduceL1', false)).toEqual([2, 0.5, f(1e20), f(1e-30), 3, 0]);
    // x·x in float32: 1e40 overflows to inf, 1e-60 underflows to 0 (ORT 1.30: sqrt of inf, of 0).
    expect(noop('onnx.ReduceL2')).toEqual([2, 0.5, Infinity, 0, 3, 0]);
    expect(noop('onnx.ReduceSumSquare')).toEqual([4, 0.25, Infinity, 0, 9, 0]);
    expect(noop('onnx.ReduceLogSum')).toEqual([NaN, f(Math.log(0.5)), f(Math.log(f(1e20))), NaN, f(Math.log(3)), -Infinity]);
    for (const op of ['onnx.ReduceLogSumExp', 'onnx.ReduceSum', 'onnx.ReduceMean', 'onnx.ReduceMax', 'onnx.ReduceMin', 'onnx.ReduceProd']) {
      expect(noop(op), op).toEqual([-2, 0.5, f(1e20), f(-1e-30), 3, -0]);
    }
    const ints = runOp('onnx.ReduceSumSquare', [Tensor.fromValues('int32', [3], [-2, 0, 7])], { attributes: { noop_with_empty_axes: attrs.int(1) } });
    expect(values(ints[0]!)).toEqual([4, 0, 49]);
  });

  it('sums ReduceL2 squares in float32 for float32 data, like ONNX Runtime (overflow to inf)', () => {
    const [y] = runOp('onnx.ReduceL2', [f32([1, 3], [-2, 0.5, 1e20])], { attributes: { keepdims: attrs.int(0) } });
    expect(values(y!)).toEqual([Infinity]);
    const [d] = runOp('onnx.ReduceL2', [Tensor.fromValues('float64', [3], [-2, 0.5, 1e20])], { attributes: { keepdims: attrs.int(0) } });
    expect(values(d!)).toEqual([1e20]);
  });

  it('computes every reduction kind', () => {
    const run = (op: string) => values(runOp(op, [f32([3], [1, -2, 3])], { attributes: { keepdims: attrs.int(0) } })[0]!)[0] as number;
    expect(run('onnx.ReduceMax')).toBe(3);
    expect(run('onnx.ReduceMin')).toBe(-2);
    expect(run('onnx.ReduceProd')).toBe(-6);
    expect(run('onnx.ReduceL1')).toBe(6);
    expect(run('onnx.ReduceL2')).toBeCloseTo(Math.sqrt(14), 6);
    expect(run('onnx.ReduceSumSquare')).toBe(14);
    expect(run('onnx.ReduceLogSum')).toBeCloseTo(Math.log(2), 6);
    expect(run('onnx.ReduceLogSumExp')).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(-2) + Math.exp(3)), 6);
  });

  it('is exact on int64', () => {
    const big = 2n ** 62n;
    expect(values(runOp('onnx.ReduceSum', [i64([2], [big, 1n])], { attributes: { keepdims: attrs.int(0) } })[0]!)).toEqual([big + 1n]);
  });

  it('infers shapes from attributes, constant axes, or only the rank', () => {
    const input = tensorType('float32', ['N', 3, 4]);
    expect(inferOp('onnx.ReduceMax', [input], { opset: 13, attributes: { axes: attrs.ints([-1]) } })).toEqual([tensorType('float32', ['N', 3, 1])]);
    expect(inferOp('onnx.ReduceMax', [input, i64([1], [1])], { attributes: { keepdims: attrs.int(0) } })).toEqual([tensorType('float32', ['N', 4])]);
    expect(inferOp('onnx.ReduceMax', [input, tensorType('int64', [1])])).toEqual([tensorType('float32', [null, null, null])]);
    expect(inferOp('onnx.ReduceMax', [input, tensorType('int64', [1])], { attributes: { keepdims: attrs.int(0) } })).toEqual([tensorType('float32', null)]);
  });

  it('finds ArgMax/ArgMin, first or last of ties', () => {
    const ties = f32([2, 2], [1, 1, 3, 0]);
    expect(values(runOp('onnx.ArgMax', [ties], { attributes: { axis: attrs.int(1) } })[0]!)).toEqual([0n, 0n]);
    expect(values(runOp('onnx.ArgMax', [ties], { attributes: { axis: attrs.int(1), select_last_index: attrs.int(1) } })[0]!)).toEqual([1n, 0n]);
    expect(values(runOp('onnx.ArgMin', [ties], { attributes: { keepdims: attrs.int(0) } })[0]!)).toEqual([0n, 1n]);
    expect(inferOp('onnx.ArgMax', [tensorType('float32', ['B', 7])], { attributes: { axis: attrs.int(-1) } })).toEqual([tensorType('int64', ['B', 1])]);
  });
});

describe('softmax family and CumSum', () => {
  const input = f32([2, 2], [0, 1, 2, 3]);
  it('uses one axis from opset 13 and 2-D coercion before', () => {
    const [y13] = runOp('onnx.Softmax', [input], { opset: 13, attributes: { axis: attrs.int(0) } });
    expect((values(y13!) as number[]).map((v) => +v.toFixed(6))).toEqual([0.119203, 0.119203, 0.880797, 0.880797]);
    const [y11] = runOp('onnx.Softmax', [input], { opset: 11, attributes: { axis: attrs.int(0) } });
    const all = [0, 1, 2, 3].map(Math.exp);
    const total = all.reduce((a, b) => a + b);
    expect((values(y11!) as number[]).map((v) => +v.toFixed(6))).toEqual(all.map((v) => +(v / total).toFixed(6)));
    const [log] = runOp('onnx.LogSoftmax', [input], { opset: 13 });
    expect(values(log!)[1]).toBeCloseTo(-Math.log1p(Math.exp(-1)), 6);
    expect(values(runOp('onnx.Hardmax', [f32([3], [1, 3, 3])], { opset: 13 })[0]!)).toEqual([0, 1, 0]);
  });

  it('accumulates with exclusive and reverse', () => {
    const v = f32([4], [1, 2, 3, 4]);
    const axis = i64([], [0]);
    expect(values(runOp('onnx.CumSum', [v, axis])[0]!)).toEqual([1, 3, 6, 10]);
    expect(values(runOp('onnx.CumSum', [v, axis], { attributes: { exclusive: attrs.int(1), reverse: attrs.int(1) } })[0]!)).toEqual([9, 7, 4, 0]);
  });
});
