/**
 * activationParams: the scale/zero point rules, checked against ONNX Runtime's QuantizeLinear
 * semantics through the IR's bit-exact quantizeLinear — a range starting at 0 puts the zero point
 * at the dtype's minimum, so quantizing computes Relu exactly (negatives saturate to real 0), and
 * zero is always exactly representable.
 */
import { describe, expect, it } from 'vitest';
import { dequantizeLinear, quantizeLinear, Tensor } from '@modelpass/ir';
import { activationParams } from '@modelpass/quantize';

function roundTrip(values: number[], range: { min: number; max: number }, dtype: 'uint8' | 'int8', symmetric = false): number[] {
  const { quant } = activationParams('t', range, { dtype, symmetric });
  const scale = Tensor.scalar('float32', quant.scale[0]!);
  const zeroPoint = Tensor.scalar(dtype, quant.zeroPoint[0]!);
  return dequantizeLinear(quantizeLinear(Tensor.fromValues('float32', [values.length], values), scale, zeroPoint), scale, zeroPoint).toNumbers();
}

describe('activationParams', () => {
  it.each(['uint8', 'int8'] as const)('a [0, max] range folds Relu exactly (%s)', (dtype) => {
    const { quant } = activationParams('relu', { min: 0, max: 6.5 }, { dtype, symmetric: false });
    expect(quant.zeroPoint[0]).toBe(dtype === 'uint8' ? 0 : -128);
    const out = roundTrip([-3, -0.001, 0, 1, 6.5, 9], { min: 0, max: 6.5 }, dtype);
    expect(out.slice(0, 3)).toEqual([0, 0, 0]);
    expect(out[5]).toBeCloseTo(6.5, 5); // saturates at the range's end
    expect(Math.abs(out[3]! - 1)).toBeLessThanOrEqual(quant.scale[0]! / 2);
  });

  it('widens a range to include zero, and zero is exact', () => {
    const { quant } = activationParams('t', { min: 0.5, max: 2 }, { dtype: 'uint8', symmetric: false });
    expect(quant.zeroPoint[0]).toBe(0);
    expect(quant.scale[0]).toBeCloseTo(2 / 255, 8);
    expect(roundTrip([0], { min: -1.3, max: 2.7 }, 'uint8')).toEqual([0]);
  });

  it('symmetric int8 uses ±127 around zero point 0; uint8 centers at 128', () => {
    expect(activationParams('t', { min: -1, max: 2.54 }, { dtype: 'int8', symmetric: true }).quant).toEqual({ scale: [Math.fround(2.54 / 127)], zeroPoint: [0], bits: 8 });
    expect(activationParams('t', { min: -1, max: 1 }, { dtype: 'uint8', symmetric: true }).quant.zeroPoint).toEqual([128]);
  });

  it('an all-zero range gets scale 1; a broken range is refused naming the tensor', () => {
    expect(activationParams('t', { min: 0, max: 0 }, { dtype: 'uint8', symmetric: false }).quant.scale).toEqual([1]);
    expect(() => activationParams('/conv/out', { min: NaN, max: 1 }, { dtype: 'uint8', symmetric: false })).toThrow("tensor '/conv/out' has no usable calibration range");
  });
});
