import { attrs, Tensor, tensorType } from '@modelpass/ir';
import { describe, expect, it } from 'vitest';
import { f32, i64, inferOp, runOp, values } from './math-helpers.js';

describe('bitwise ops (opset 18)', () => {
  it('wrap to the operand width as two’s complement does', () => {
    const a = Tensor.fromValues('uint8', [3], [0b1100, 255, 0]);
    const b = Tensor.fromValues('uint8', [3], [0b1010, 1, 0]);
    expect(values(runOp('onnx.BitwiseAnd', [a, b], { opset: 18 })[0]!)).toEqual([0b1000, 1, 0]);
    expect(values(runOp('onnx.BitwiseOr', [a, b], { opset: 18 })[0]!)).toEqual([0b1110, 255, 0]);
    expect(values(runOp('onnx.BitwiseXor', [a, b], { opset: 18 })[0]!)).toEqual([0b0110, 254, 0]);
    expect(values(runOp('onnx.BitwiseNot', [a], { opset: 18 })[0]!)).toEqual([0b11110011, 0, 255]);
    expect(values(runOp('onnx.BitwiseNot', [Tensor.fromValues('uint32', [1], [0])], { opset: 18 })[0]!)).toEqual([4294967295]);
    expect(values(runOp('onnx.BitwiseNot', [i64([2], [0, -5])], { opset: 18 })[0]!)).toEqual([-1n, 4n]);
  });
});

describe('CumProd (opset 26)', () => {
  it('runs along the axis, exclusive from 1, reverse from the end', () => {
    const x = f32([4], [1, 2, 3, 4]);
    const axis = i64([], [0]);
    expect(values(runOp('onnx.CumProd', [x, axis], { opset: 26 })[0]!)).toEqual([1, 2, 6, 24]);
    expect(values(runOp('onnx.CumProd', [x, axis], { opset: 26, attributes: { exclusive: attrs.int(1), reverse: attrs.int(1) } })[0]!)).toEqual([24, 12, 4, 1]);
  });
});

describe('signal generators (opset 17)', () => {
  it('HannWindow: symmetric ends at 0, periodic omits the closing sample; the size folds into the type', () => {
    const symmetric = values(runOp('onnx.HannWindow', [i64([], [5])], { opset: 17, attributes: { periodic: attrs.int(0) } })[0]!) as number[];
    expect(symmetric.map((v) => Math.round(v * 1e6) / 1e6)).toEqual([0, 0.5, 1, 0.5, 0]);
    const periodic = values(runOp('onnx.HannWindow', [i64([], [4])], { opset: 17 })[0]!) as number[];
    expect(periodic.map((v) => Math.round(v * 1e6) / 1e6)).toEqual([0, 0.5, 1, 0.5]);
    expect(inferOp('onnx.HannWindow', [i64([], [7])], { opset: 17 })?.[0]).toEqual(tensorType('float32', [7]));
  });

  it('MelWeightMatrix: [dft/2 + 1, bins], each filter peaks at 1; a bad output_datatype is a located error', () => {
    const inputs = [i64([], [4]), i64([], [32]), i64([], [8000]), f32([], [0]), f32([], [4000])];
    const matrix = runOp('onnx.MelWeightMatrix', inputs, { opset: 17 })[0]!;
    expect(matrix.shape).toEqual([17, 4]);
    const columns = [0, 1, 2, 3].map((k) => (values(matrix) as number[]).filter((_, i) => i % 4 === k));
    for (const column of columns) expect(Math.max(...column)).toBe(1);
    expect(inferOp('onnx.MelWeightMatrix', inputs, { opset: 17 })?.[0]).toEqual(tensorType('float32', [17, 4]));
    expect(() => runOp('onnx.MelWeightMatrix', inputs, { opset: 17, attributes: { output_datatype: attrs.int(99) } })).toThrow(/output_datatype 99/);
  });
});

describe('RMSNormalization (opset 23) and GlobalLpPool', () => {
  it('RMSNormalization divides by the root mean square from the axis on', () => {
    const y = values(runOp('onnx.RMSNormalization', [f32([1, 2], [3, 4]), f32([2], [1, 2])], { opset: 23, attributes: { epsilon: attrs.float(0) } })[0]!) as number[];
    const rms = Math.sqrt((9 + 16) / 2);
    expect(y[0]).toBeCloseTo(3 / rms, 6);
    expect(y[1]).toBeCloseTo((4 / rms) * 2, 6);
  });

  it('GlobalLpPool keeps N and C, the spatial dims become 1', () => {
    const y = runOp('onnx.GlobalLpPool', [f32([1, 1, 2, 2], [3, 0, 0, 4])])[0]!;
    expect(y.shape).toEqual([1, 1, 1, 1]);
    expect(values(y)[0]).toBeCloseTo(5, 6);
    expect(inferOp('onnx.GlobalLpPool', [tensorType('float32', ['N', 3, 5, 7, 9])])?.[0]).toEqual(tensorType('float32', ['N', 3, 1, 1, 1]));
  });
});
