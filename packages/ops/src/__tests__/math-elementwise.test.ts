import { describe, expect, it } from 'vitest';
import { attrs, ModelpassError, Tensor, tensorType } from '@modelpass/ir';
import { f32, i64, inferOp, runOp, values } from './math-helpers.js';

describe('elementwise arithmetic', () => {
  it('adds with broadcasting and infers symbolic shapes', () => {
    const [c] = runOp('onnx.Add', [f32([2, 1], [1, 2]), f32([3], [10, 20, 30])]);
    expect(c!.shape).toEqual([2, 3]);
    expect(values(c!)).toEqual([11, 21, 31, 12, 22, 32]);
    expect(inferOp('onnx.Add', [tensorType('float32', ['N', 1, 4]), tensorType('float32', [3, 1])])).toEqual([tensorType('float32', ['N', 3, 4])]);
  });

  it('is exact for int64 beyond 2^53 and wraps int32', () => {
    const big = 2n ** 60n + 1n;
    const [sum] = runOp('onnx.Add', [i64([1], [big]), i64([1], [2n])]);
    expect(values(sum!)).toEqual([big + 2n]);
    const [product] = runOp('onnx.Mul', [Tensor.fromValues('int32', [1], [2 ** 30]), Tensor.fromValues('int32', [1], [4])]);
    expect(values(product!)).toEqual([0]);
  });

  it('divides integers toward zero and rejects division by zero', () => {
    const [q] = runOp('onnx.Div', [Tensor.fromValues('int32', [2], [-7, 7]), Tensor.fromValues('int32', [2], [2, -2])]);
    expect(values(q!)).toEqual([-3, -3]);
    expect(() => runOp('onnx.Div', [i64([1], [1]), i64([1], [0])])).toThrow(ModelpassError);
  });

  it('computes Mod with fmod=0 (divisor sign) and fmod=1 (dividend sign)', () => {
    const a = Tensor.fromValues('int32', [4], [-4, 7, 5, -5]);
    const b = Tensor.fromValues('int32', [4], [3, -3, 3, -3]);
    expect(values(runOp('onnx.Mod', [a, b])[0]!)).toEqual([2, -2, 2, -2]);
    expect(values(runOp('onnx.Mod', [a, b], { attributes: { fmod: attrs.int(1) } })[0]!)).toEqual([-1, 1, 2, -2]);
    expect(() => runOp('onnx.Mod', [f32([1], [1]), f32([1], [2])])).toThrow(/fmod=1/);
  });

  it('computes Pow with mixed operand types', () => {
    expect(values(runOp('onnx.Pow', [Tensor.fromValues('int32', [2], [2, 3]), f32([2], [3, 0.5])])[0]!)).toEqual([8, 1]);
    expect(values(runOp('onnx.Pow', [i64([1], [3]), i64([1], [39])])[0]!)).toEqual([3n ** 39n]);
  });

  it('honours the pre-opset-7 broadcast axis', () => {
    const a = f32([2, 3, 2], new Array(12).fill(0));
    const b = f32([3], [1, 2, 3]);
    const [c] = runOp('onnx.Add', [a, b], { opset: 6, attributes: { broadcast: attrs.int(1), axis: attrs.int(1) } });
    expect(values(c!)).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
  });

  it('rounds half to even and keeps float16 in float16', () => {
    expect(values(runOp('onnx.Round', [f32([4], [0.5, 1.5, 2.5, -2.5])])[0]!)).toEqual([0, 2, 2, -2]);
    const [y] = runOp('onnx.Sqrt', [Tensor.fromValues('float16', [1], [2])]);
    expect(y!.dtype).toBe('float16');
    expect(values(y!)[0]).toBeCloseTo(1.414, 3);
  });
});

describe('activations', () => {
  const x = f32([5], [-2, -0.5, 0, 0.5, 3]);
  const run = (op: string, a: Record<string, ReturnType<typeof attrs.float>> = {}) => values(runOp(op, [x], { attributes: a })[0]!) as number[];

  it('matches the ONNX formulas', () => {
    expect(run('onnx.Relu')).toEqual([0, 0, 0, 0.5, 3]);
    expect(run('onnx.LeakyRelu', { alpha: attrs.float(0.5) })).toEqual([-1, -0.25, 0, 0.5, 3]);
    expect(run('onnx.ThresholdedRelu', { alpha: attrs.float(0.5) })).toEqual([0, 0, 0, 0, 3]);
    expect(run('onnx.HardSwish')).toEqual([-2 * (1 / 6 * -2 + 0.5), -0.5 * (-0.5 / 6 + 0.5), 0, 0.5 * (0.5 / 6 + 0.5), 3].map(Math.fround));
    const gelu = run('onnx.Gelu');
    expect(gelu[4]).toBeCloseTo(2.9959502, 6);
    expect(run('onnx.Gelu', { approximate: attrs.string('tanh') as never })[4]).toBeCloseTo(2.9963627, 6);
    expect(run('onnx.Mish')[4]).toBeCloseTo(2.9865350, 6);
    expect(run('onnx.Erf')[3]).toBeCloseTo(0.5204999, 7);
    expect(run('onnx.Softplus')[0]).toBeCloseTo(Math.log1p(Math.exp(-2)), 7);
    expect(run('onnx.Celu')[0]).toBeCloseTo(Math.expm1(-2), 7);
  });

  it('applies PRelu slope per channel', () => {
    const input = f32([1, 2, 1, 1], [-1, -1]);
    const [y] = runOp('onnx.PRelu', [input, f32([2, 1, 1], [0.1, 0.2])]);
    expect(values(y!)).toEqual([Math.fround(-0.1), Math.fround(-0.2)]);
  });

  it('clips with attributes before opset 11 and inputs after', () => {
    const input = f32([3], [-5, 0, 5]);
    expect(values(runOp('onnx.Clip', [input], { opset: 6, attributes: { min: attrs.float(-1), max: attrs.float(1) } })[0]!)).toEqual([-1, 0, 1]);
    expect(values(runOp('onnx.Clip', [input, null, f32([], [2])], { opset: 13 })[0]!)).toEqual([-5, 0, 2]);
    expect(values(runOp('onnx.Clip', [i64([2], [-9, 9]), i64([], [-3]), i64([], [4])])[0]!)).toEqual([-3n, 4n]);
  });
});

describe('variadic, comparison and logic ops', () => {
  it('folds Max/Min/Sum/Mean with broadcasting', () => {
    const a = f32([2], [1, 5]);
    const b = f32([2, 1], [3, 4]);
    expect(values(runOp('onnx.Max', [a, b])[0]!)).toEqual([3, 5, 4, 5]);
    expect(values(runOp('onnx.Mean', [a, b, f32([], [0])])[0]!)).toEqual([4 / 3, 8 / 3, 5 / 3, 3].map(Math.fround));
    expect(values(runOp('onnx.Min', [f32([1], [NaN]), f32([1], [1])])[0]!)[0]).toBeNaN();
  });

  it('compares numbers and strings and selects with Where', () => {
    const [eq] = runOp('onnx.Equal', [Tensor.fromStrings([2], ['a', 'b']), Tensor.fromStrings([2], ['a', 'c'])]);
    expect(eq!.dtype).toBe('bool');
    expect(values(eq!)).toEqual([1, 0]);
    expect(values(runOp('onnx.GreaterOrEqual', [i64([2], [1, 2]), i64([1], [2])])[0]!)).toEqual([0, 1]);
    const [w] = runOp('onnx.Where', [Tensor.fromValues('bool', [2], [1, 0]), Tensor.fromStrings([1], ['x']), Tensor.fromStrings([2], ['y', 'z'])]);
    expect(w!.strings).toEqual(['x', 'z']);
    expect(inferOp('onnx.Where', [tensorType('bool', ['N', 1]), tensorType('int32', [3]), tensorType('int32', [1])])).toEqual([tensorType('int32', ['N', 3])]);
  });

  it('shifts unsigned integers and tests for NaN/Inf', () => {
    const dir = (d: string) => ({ attributes: { direction: attrs.string(d) } });
    expect(values(runOp('onnx.BitShift', [Tensor.fromValues('uint8', [2], [255, 16]), Tensor.fromValues('uint8', [2], [1, 2])], dir('LEFT'))[0]!)).toEqual([254, 64]);
    expect(values(runOp('onnx.BitShift', [Tensor.fromValues('uint64', [1], [2n ** 63n]), Tensor.fromValues('uint64', [1], [62n])], dir('RIGHT'))[0]!)).toEqual([2n]);
    const special = f32([3], [Infinity, -Infinity, NaN]);
    expect(values(runOp('onnx.IsInf', [special], { attributes: { detect_negative: attrs.int(0) } })[0]!)).toEqual([1, 0, 0]);
    expect(values(runOp('onnx.IsNaN', [special])[0]!)).toEqual([0, 0, 1]);
    expect(values(runOp('onnx.Xor', [Tensor.fromValues('bool', [2], [1, 1]), Tensor.fromValues('bool', [2], [0, 1])])[0]!)).toEqual([1, 0]);
  });
});
