import { describe, expect, it } from 'vitest';
import { decodeElements, encodeElements, Tensor, type DType } from '@modelpass/ir';

/** The bytes a DataView writes for `values` (the reference the encoder must match byte for byte). */
function reference(dtype: DType, values: readonly number[]): Uint8Array {
  const widths: Record<string, number> = { int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8, float32: 4, float64: 8 };
  const width = widths[dtype]!;
  const view = new DataView(new ArrayBuffer(values.length * width));
  values.forEach((value, i) => {
    const at = i * width;
    if (dtype === 'int8') view.setInt8(at, value);
    else if (dtype === 'uint8') view.setUint8(at, value);
    else if (dtype === 'int16') view.setInt16(at, value, true);
    else if (dtype === 'uint16') view.setUint16(at, value, true);
    else if (dtype === 'int32') view.setInt32(at, value, true);
    else if (dtype === 'uint32') view.setUint32(at, value, true);
    else if (dtype === 'int64') view.setBigInt64(at, BigInt(Math.trunc(value)), true);
    else if (dtype === 'uint64') view.setBigUint64(at, BigInt.asUintN(64, BigInt(Math.trunc(value))), true);
    else if (dtype === 'float32') view.setFloat32(at, value, true);
    else view.setFloat64(at, value, true);
  });
  return new Uint8Array(view.buffer);
}

const EDGES = [0, 1, -1, 127, -128, 255, 256, 32767, -32768, 65535, 2 ** 31 - 1, -(2 ** 31), 2 ** 32 - 1, 2 ** 32, 1.5, -2.5];
const WIDE = [0, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 32 + 5, -(2 ** 32) - 5, 123456789012];

describe('small tensors (at most 64 bytes) are encoded and read without a typed array buffer, with the same bytes and numbers', () => {
  for (const dtype of ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'] as const) {
    it(`${dtype}: bytes equal DataView's, elements and numbers read back as stored`, () => {
      const width = dtype.endsWith('8') ? 1 : dtype.endsWith('16') ? 2 : dtype.endsWith('64') ? 8 : 4;
      for (let start = 0; start < EDGES.length; start += 64 / width) {
        const values = EDGES.slice(start, start + 64 / width);
        const bytes = encodeElements(dtype, values);
        expect(bytes).toEqual(reference(dtype, values));
        const decoded = decodeElements(dtype, bytes, values.length);
        const viaDataView = decodeElements(dtype, new Uint8Array([0, ...bytes]).subarray(1), values.length);
        expect(decoded).toEqual(viaDataView);
        expect(Tensor.fromBytes(dtype, [values.length], bytes).toNumbers()).toEqual([...viaDataView]);
      }
    });
  }

  for (const dtype of ['int64', 'uint64'] as const) {
    it(`${dtype}: safe integers written as the BigInt would be, read back as Number(bigint)`, () => {
      const bytes = encodeElements(dtype, WIDE);
      expect(bytes).toEqual(reference(dtype, WIDE));
      const bigints = decodeElements(dtype, bytes, WIDE.length) as BigInt64Array | BigUint64Array;
      expect(Tensor.fromBytes(dtype, [WIDE.length], bytes).toNumbers()).toEqual([...bigints].map(Number));
    });
  }

  it('rounds a 64-bit integer beyond 2^53 once, as Number(bigint) does, and reads bytes at any offset', () => {
    const big = [2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n, 2n ** 54n + 3n];
    const bytes = encodeElements('int64', big);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(Tensor.fromBytes('int64', [4], shifted.subarray(3)).toNumbers()).toEqual(big.map(Number));
  });

  it('keeps the general paths for what is not a number of a small tensor', () => {
    expect(encodeElements('int64', [1n, -2n])).toEqual(reference('int64', [1, -2]));
    expect(encodeElements('int32', [true, false] as unknown as number[])).toEqual(reference('int32', [1, 0]));
    const seventeen = Array.from({ length: 17 }, (_, i) => i - 8);
    expect(encodeElements('int32', seventeen)).toEqual(reference('int32', seventeen));
    expect(Tensor.fromValues('int32', [17], seventeen).toNumbers()).toEqual(seventeen);
    expect(() => Tensor.fromStrings([1], ['a']).toNumbers()).toThrow('string tensors have no numeric values');
  });
});
