import { describe, expect, it } from 'vitest';
import { attrs, onnxCodeOf, Tensor, tensorType } from '@modelpass/ir';
import { f32, i64, inferOp, runOp, values } from './math-helpers.js';

const to = (dtype: Parameters<typeof onnxCodeOf>[0]) => ({ to: attrs.int(onnxCodeOf(dtype)) });

describe('Cast and CastLike', () => {
  it('truncates floats to ints and is exact for int64', () => {
    expect(values(runOp('onnx.Cast', [f32([3], [1.9, -1.9, 300])], { attributes: to('int32') })[0]!)).toEqual([1, -1, 300]);
    expect(values(runOp('onnx.Cast', [f32([3], [100.5, -100.5, 7.9])], { attributes: to('int8') })[0]!)).toEqual([100, -100, 7]);
    expect(values(runOp('onnx.Cast', [f32([3], [7, 9, -9])], { attributes: to('int4') })[0]!)).toEqual([7, -7, 7]);
    const big = 2n ** 62n + 3n;
    expect(values(runOp('onnx.Cast', [i64([1], [big])], { attributes: to('uint64') })[0]!)).toEqual([big]);
    expect(values(runOp('onnx.Cast', [f32([2], [0, 0.1])], { attributes: to('bool') })[0]!)).toEqual([0, 1]);
  });

  it('formats and parses strings', () => {
    expect(runOp('onnx.Cast', [f32([3], [0.1, 1e-5, NaN])], { attributes: to('string') })[0]!.strings).toEqual(['0.1', '0.00001', 'NaN']);
    expect(values(runOp('onnx.Cast', [Tensor.fromStrings([3], ['1.5', '-INF', '+INF'])], { attributes: to('float32') })[0]!)).toEqual([1.5, -Infinity, Infinity]);
  });

  it('saturates float8 unless saturate=0', () => {
    const big = f32([2], [1000, -1000]);
    expect(values(runOp('onnx.Cast', [big], { attributes: to('float8e4m3fn') })[0]!)).toEqual([448, -448]);
    const [unsat] = runOp('onnx.Cast', [big], { attributes: { ...to('float8e4m3fn'), saturate: attrs.int(0) } });
    expect((values(unsat!) as number[]).every(Number.isNaN)).toBe(true);
    const huge = f32([2], [1e6, -1e6]);
    expect(values(runOp('onnx.Cast', [huge], { attributes: to('float8e5m2') })[0]!)).toEqual([57344, -57344]);
    expect(values(runOp('onnx.Cast', [huge], { attributes: { ...to('float8e5m2'), saturate: attrs.int(0) } })[0]!)).toEqual([Infinity, -Infinity]);
  });

  it('infers the target type', () => {
    expect(inferOp('onnx.Cast', [tensorType('float32', ['N'])], { attributes: to('float16') })).toEqual([tensorType('float16', ['N'])]);
    expect(inferOp('onnx.CastLike', [tensorType('float32', ['N']), tensorType('int8', [])])).toEqual([tensorType('int8', ['N'])]);
    expect(runOp('onnx.CastLike', [f32([1], [2.5]), Tensor.fromValues('float64', [], [0])])[0]!.dtype).toBe('float64');
  });
});

describe('quantization', () => {
  it('quantizes per tensor with round-half-even and saturation', () => {
    const x = f32([6], [0, 1, 2.5, 3.5, -300, 300]);
    const [y] = runOp('onnx.QuantizeLinear', [x, f32([], [1]), Tensor.fromValues('uint8', [], [10])]);
    expect(y!.dtype).toBe('uint8');
    expect(values(y!)).toEqual([10, 11, 12, 14, 0, 255]);
    const [noZero] = runOp('onnx.QuantizeLinear', [x, f32([], [2])]);
    expect(values(noZero!)).toEqual([0, 0, 1, 2, 0, 150]);
  });

  it('quantizes per axis and per block into int4/int16/float8', () => {
    const x = f32([2, 4], [1, 2, 3, 4, -1, -2, -3, -4]);
    const [perAxis] = runOp('onnx.QuantizeLinear', [x, f32([2], [1, 0.5]), Tensor.fromValues('int4', [2], [0, 0])], { attributes: { axis: attrs.int(0) } });
    expect(perAxis!.dtype).toBe('int4');
    expect(values(perAxis!)).toEqual([1, 2, 3, 4, -2, -4, -6, -8]);
    const [blocked] = runOp('onnx.QuantizeLinear', [x, f32([2, 2], [1, 2, 1, 4])], {
      attributes: { axis: attrs.int(1), block_size: attrs.int(2), output_dtype: attrs.int(onnxCodeOf('int16')) },
    });
    expect(blocked!.dtype).toBe('int16');
    expect(values(blocked!)).toEqual([1, 2, 2, 2, -1, -2, -1, -1]);
    const [fp8] = runOp('onnx.QuantizeLinear', [f32([1], [1000]), f32([], [1]), Tensor.fromValues('float8e4m3fn', [], [0])]);
    expect(values(fp8!)).toEqual([448]);
    expect(() => runOp('onnx.QuantizeLinear', [x, f32([3], [1, 1, 1])], { attributes: { axis: attrs.int(0) } })).toThrow(/per-axis/);
  });

  it('dequantizes per tensor and per axis', () => {
    const q = Tensor.fromValues('int8', [2, 2], [-128, 0, 10, 127]);
    expect(values(runOp('onnx.DequantizeLinear', [q, f32([], [0.5]), Tensor.fromValues('int8', [], [-1])])[0]!)).toEqual([-63.5, 0.5, 5.5, 64]);
    expect(values(runOp('onnx.DequantizeLinear', [q, f32([2], [1, 2])], { attributes: { axis: attrs.int(1) } })[0]!)).toEqual([-128, 0, 10, 254]);
    expect(inferOp('onnx.DequantizeLinear', [tensorType('uint8', ['N', 3]), tensorType('float16', [])])).toEqual([tensorType('float16', ['N', 3])]);
  });

  it('quantizes dynamically to uint8 with scale and zero point', () => {
    const [y, scale, zeroPoint] = runOp('onnx.DynamicQuantizeLinear', [f32([4], [-1, 0, 1, 2.06])], { outputs: 3 });
    expect(values(scale!)[0]).toBeCloseTo(3.06 / 255, 7);
    expect(values(zeroPoint!)).toEqual([83]);
    expect(values(y!)).toEqual([0, 83, 166, 255]);
  });
});
