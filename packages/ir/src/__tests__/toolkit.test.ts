import { describe, expect, it } from 'vitest';
import {
  attrs,
  castFloatTensor,
  concatAlongAxis,
  dequantizeLinear,
  GraphBuilder,
  ModelpassError,
  quantizeAsymmetric,
  quantizeLinear,
  quantizeSymmetric,
  reduceAlongAxis,
  roundHalfToEven,
  sliceAlongAxis,
  takeAlongAxis,
  Tensor,
  tensorType,
  toBfloat16,
  toFloat16,
  toFloat32,
  weightOutputAxis,
} from '@modelpass/ir';

/** [2, 3, 2] with element i = i. */
const cube = (dtype: 'float32' | 'int4' | 'int64' | 'float16' = 'float32') =>
  Tensor.fromValues(dtype, [2, 3, 2], Array.from({ length: 12 }, (_, i) => (dtype === 'int64' ? BigInt(i - 6) : dtype === 'int4' ? (i % 16) - 8 : i)) as never);

describe('take, slice, concat along an axis', () => {
  it('takes slices in the order asked, for byte and sub-byte dtypes', () => {
    expect(takeAlongAxis(cube(), 1, [2, 0]).toNumbers()).toEqual([4, 5, 0, 1, 10, 11, 6, 7]);
    expect(takeAlongAxis(cube(), -1, [1]).shape).toEqual([2, 3, 1]);
    expect(takeAlongAxis(cube('int4'), 0, [1]).toNumbers()).toEqual([-2, -1, 0, 1, 2, 3]);
    expect(takeAlongAxis(cube('int64'), 2, [1]).toNumbers()).toEqual([-5, -3, -1, 1, 3, 5]);
    expect(takeAlongAxis(cube('float16'), 1, [1]).dtype).toBe('float16');
    const strings = Tensor.fromStrings([2, 2], ['a', 'b', 'c', 'd']);
    expect(takeAlongAxis(strings, 1, [1]).strings).toEqual(['b', 'd']);
  });

  it('slices with negative and clamped bounds', () => {
    expect(sliceAlongAxis(cube(), 1, 1).toNumbers()).toEqual([2, 3, 4, 5, 8, 9, 10, 11]);
    expect(sliceAlongAxis(cube(), 1, -1, 99).shape).toEqual([2, 1, 2]);
    expect(sliceAlongAxis(cube(), 1, 2, 1).shape).toEqual([2, 0, 2]);
  });

  it('concatenates and round-trips a split', () => {
    const t = cube();
    const joined = concatAlongAxis([sliceAlongAxis(t, 1, 0, 1), sliceAlongAxis(t, 1, 1)], 1);
    expect(joined.equals(t)).toBe(true);
    expect(() => concatAlongAxis([t, cube('int64')], 0)).toThrow(/cannot concatenate/);
    expect(() => takeAlongAxis(t, 3, [0])).toThrow(ModelpassError);
    expect(() => takeAlongAxis(t, 1, [3])).toThrow(/out of range/);
  });
});

describe('per-axis reductions', () => {
  const w = Tensor.fromValues('float32', [2, 3], [1, -4, 2, -0.5, 0, 3]);
  it.each([
    ['min', 0, [-4, -0.5]],
    ['max', 0, [2, 3]],
    ['absmax', 0, [4, 3]],
    ['l1', 0, [7, 3.5]],
    ['l2', 0, [Math.sqrt(21), Math.sqrt(9.25)]],
    ['mean', 0, [-1 / 3, 2.5 / 3]],
    ['sum', 1, [0.5, -4, 5]],
    ['absmax', undefined, [4]],
  ] as const)('%s along %s', (reduction, axis, expected) => {
    const got = Array.from(reduceAlongAxis(w, reduction, axis));
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
    expect(got).toHaveLength(expected.length);
  });
  it('propagates NaN through max and refuses strings', () => {
    expect(reduceAlongAxis(Tensor.fromValues('float32', [2], [1, Number.NaN]), 'max')[0]).toBeNaN();
    expect(() => reduceAlongAxis(Tensor.fromStrings([1], ['a']), 'max')).toThrow(/real-valued/);
  });
});

describe('float conversions', () => {
  it('rounds to nearest even into float16 and bfloat16 and back exactly', () => {
    const t = Tensor.fromValues('float32', [5], [1, 1 + 2 ** -11, 65520, -0, 1 / 3]);
    const half = toFloat16(t);
    expect(half.dtype).toBe('float16');
    expect(half.toNumbers()).toEqual([1, 1, Infinity, -0, 0.333251953125]);
    expect(toFloat32(half).toNumbers()).toEqual(half.toNumbers());
    expect(toBfloat16(Tensor.fromValues('float32', [2], [1 + 2 ** -8, 3])).toNumbers()).toEqual([1, 3]);
    expect(castFloatTensor(Tensor.fromValues('int8', [2], [-3, 7]), 'float64').toNumbers()).toEqual([-3, 7]);
  });
});

describe('quantization', () => {
  it('rounds half to even', () => {
    expect([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4999].map(roundHalfToEven)).toEqual([-2, -2, 0, 0, 2, 2, 2]);
  });

  it('quantizeLinear saturates, and per-axis parameters follow the axis', () => {
    const x = Tensor.fromValues('float32', [2, 2], [1, 1000, -1000, 0.25]);
    const q = quantizeLinear(x, Tensor.fromValues('float32', [2], [0.5, 0.25]), Tensor.fromValues('int8', [2], [0, 1]), { axis: 0 });
    expect(q.toNumbers()).toEqual([2, 127, -128, 2]);
    expect(quantizeLinear(x, Tensor.scalar('float32', 1)).dtype).toBe('uint8');
    expect(() => quantizeLinear(x, Tensor.fromValues('float32', [3], [1, 1, 1]), undefined, { axis: 0 })).toThrow(/per-axis scale/);
    expect(() => quantizeLinear(x, Tensor.scalar('float32', 0))).toThrow(/positive finite/);
  });

  it('quantizeSymmetric picks absmax/127 per output channel and round-trips within half a step', () => {
    const w = Tensor.fromValues('float32', [2, 3], [0.5, -1, 0.25, 0, 0, 0]);
    const q = quantizeSymmetric(w, { bits: 8, axis: 0 });
    expect(q.dtype).toBe('int8');
    expect(q.axis).toBe(0);
    expect(q.scale.shape).toEqual([2]);
    expect(q.scale.toNumbers()).toEqual([Math.fround(1 / 127), 1]);
    expect(q.zeroPoint.toNumbers()).toEqual([0, 0]);
    expect(q.values.toNumbers()).toEqual([64, -127, 32, 0, 0, 0]);
    const back = dequantizeLinear(q.values, q.scale, q.zeroPoint, { axis: 0 }).toNumbers();
    back.forEach((v, i) => expect(Math.abs(v - w.toNumbers()[i]!)).toBeLessThanOrEqual(0.5 / 127 + 1e-9));
    const perTensor = quantizeSymmetric(w, { bits: 4 });
    expect(perTensor.dtype).toBe('int4');
    expect(perTensor.scale.shape).toEqual([]);
    expect(() => quantizeSymmetric(Tensor.fromValues('float32', [1], [Number.NaN]))).toThrow(/NaN or infinite/);
  });

  it('quantizeAsymmetric maps [min(0,lo), max(0,hi)] onto uint8 with zero exact', () => {
    const x = Tensor.fromValues('float32', [4], [-1, 0, 2, 3]);
    const q = quantizeAsymmetric(x);
    expect(q.dtype).toBe('uint8');
    const scale = q.scale.toNumbers()[0]!;
    expect(scale).toBe(Math.fround(4 / 255));
    const back = dequantizeLinear(q.values, q.scale, q.zeroPoint).toNumbers();
    expect(back[1]).toBe(0);
    back.forEach((v, i) => expect(Math.abs(v - x.toNumbers()[i]!)).toBeLessThanOrEqual(scale / 2 + 1e-7));
  });
});

describe('weightOutputAxis', () => {
  it('knows Conv, ConvTranspose, Gemm (transB) and MatMul', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [1, 4]));
    const w4 = b.constant(Tensor.fromValues('float32', [2, 1, 1, 1], [1, 2]));
    const w2 = b.constant(Tensor.fromValues('float32', [4, 3], new Array(12).fill(1)));
    const w3 = b.constant(Tensor.fromValues('float32', [2, 4, 3], new Array(24).fill(1)));
    const v1 = b.constant(Tensor.fromValues('float32', [4], [1, 2, 3, 4]));
    const axis = (op: string, w: typeof x, attributes = {}) => weightOutputAxis(b.node(op, [x, w], attributes));
    expect(axis('onnx.Conv', w4)).toBe(0);
    expect(axis('onnx.ConvTranspose', w4)).toBe(1);
    expect(axis('onnx.Gemm', w2)).toBe(1);
    expect(axis('onnx.Gemm', w2, { transB: attrs.int(1) })).toBe(0);
    expect(axis('onnx.MatMul', w3)).toBe(2);
    expect(axis('onnx.MatMul', v1)).toBeUndefined();
    expect(axis('onnx.Relu', w2)).toBeUndefined();
    expect(axis('onnx.MatMul', b.input('dynamic'))).toBeUndefined();
  });
});
