/**
 * Requantization shared by QLinearConv and QLinearMatMul: `saturate(round_half_even(acc * scale) + zero)`,
 * computed in float32 like ONNX Runtime (the accumulator and the product are rounded to float32).
 */
import type { DType, Tensor } from '@modelpass/ir';
import { tensorFromNumbers } from './kernel-helpers.js';

const ranges: Partial<Record<DType, [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
};

export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

export function requantize(
  dtype: DType,
  shape: readonly number[],
  accumulators: ArrayLike<number>,
  scaleAt: (index: number) => number,
  zero: number,
): Tensor {
  const [low, high] = ranges[dtype] ?? [-Infinity, Infinity];
  const out = new Array<number>(accumulators.length);
  for (let i = 0; i < accumulators.length; i++) {
    const scaled = Math.fround(Math.fround(accumulators[i]!) * scaleAt(i));
    out[i] = Math.min(Math.max(roundHalfEven(scaled) + zero, low), high);
  }
  return tensorFromNumbers(dtype, shape, out);
}
