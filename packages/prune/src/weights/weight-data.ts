/** Reading magnitudes of a float weight and writing back one with some elements zeroed. */
import { byteLengthOf, Tensor } from '@modelpass/ir';

/** |w| of every element as float64 (float16/bfloat16 decoded). */
export function magnitudes(tensor: Tensor): Float64Array {
  if (tensor.dtype === 'float32' || tensor.dtype === 'float64') {
    const data = tensor.data() as Float32Array | Float64Array;
    const result = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) result[i] = Math.abs(data[i]!);
    return result;
  }
  return Float64Array.from(tensor.toNumbers(), Math.abs);
}

/** The tensor with the elements flagged in `zero` set to +0 (all-zero bits in every float dtype). */
export function withZeros(tensor: Tensor, zero: Uint8Array): Tensor {
  const bytes = tensor.bytes().slice();
  const width = byteLengthOf(tensor.dtype, 1);
  for (let i = 0; i < zero.length; i++) if (zero[i]) bytes.fill(0, i * width, (i + 1) * width);
  return Tensor.fromBytes(tensor.dtype, tensor.shape, bytes);
}

/** Elements equal to zero (either sign). */
export function countZeros(values: Float64Array): number {
  let zeros = 0;
  for (const v of values) if (v === 0) zeros++;
  return zeros;
}
