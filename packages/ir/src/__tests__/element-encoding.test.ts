import { describe, expect, it } from 'vitest';
import { decodeElements, encodeElements, Graph, Tensor, tensorType, type DType } from '@modelpass/ir';

/** The bytes DataView's setters give (the reference the typed-array encoding must match). */
function viaDataView(dtype: DType, values: readonly (number | bigint | boolean)[]): Uint8Array {
  const size: Record<string, number> = { float32: 4, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4 };
  const bytes = new Uint8Array(values.length * size[dtype]!);
  const view = new DataView(bytes.buffer);
  values.forEach((raw, i) => {
    const v = typeof raw === 'number' ? raw : Number(raw);
    const at = i * size[dtype]!;
    if (dtype === 'float32') view.setFloat32(at, v, true);
    else if (dtype === 'float64') view.setFloat64(at, v, true);
    else if (dtype === 'int8') view.setInt8(at, v);
    else if (dtype === 'uint8') view.setUint8(at, v);
    else if (dtype === 'int16') view.setInt16(at, v, true);
    else if (dtype === 'uint16') view.setUint16(at, v, true);
    else if (dtype === 'int32') view.setInt32(at, v, true);
    else view.setUint32(at, v, true);
  });
  return bytes;
}

const AWKWARD = [0, -0, 1.5, -2.5, 0.1, 1e-45, 3.4028235677973366e38, 1e39, -1e39, NaN, Infinity, -Infinity, 127.9, 128, 255.5, 256, -129, 65535.7, 2 ** 31, 2 ** 32 + 3, -(2 ** 31) - 1, 1 / 3];

describe('encodeElements of number dtypes', () => {
  for (const dtype of ['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32'] as const) {
    it(`${dtype}: plain arrays, typed arrays, booleans and bigints give DataView's bytes (rounding, wrap-around)`, () => {
      expect(encodeElements(dtype, AWKWARD)).toEqual(viaDataView(dtype, AWKWARD));
      expect(encodeElements(dtype, Float64Array.from(AWKWARD))).toEqual(viaDataView(dtype, AWKWARD));
      expect(encodeElements(dtype, Float32Array.from(AWKWARD))).toEqual(viaDataView(dtype, Array.from(Float32Array.from(AWKWARD))));
      expect(encodeElements(dtype, [true, false, true])).toEqual(viaDataView(dtype, [1, 0, 1]));
      expect(encodeElements(dtype, [3n, -2n] as unknown as number[])).toEqual(viaDataView(dtype, [3, -2]));
    });
  }

  it('returns bytes of exactly the encoded length that decode back', () => {
    const bytes = encodeElements('float32', [1, 2, 3]);
    expect(bytes.byteLength).toBe(12);
    expect(bytes.buffer.byteLength).toBe(12);
    expect(Array.from(decodeElements('float32', bytes, 3))).toEqual([1, 2, 3]);
  });

  it('int64 and uint64 take bigints (wrapping as DataView does), truncated numbers and booleans', () => {
    expect(Tensor.fromValues('int64', [4], [5n, -7.9, 2.2, true] as unknown as number[]).toNumbers()).toEqual([5, -7, 2, 1]);
    const reference = new DataView(new ArrayBuffer(24));
    [2n ** 64n - 1n, -(2n ** 63n) - 1n, 2n ** 70n + 5n].forEach((v, i) => reference.setBigInt64(i * 8, v, true));
    expect(encodeElements('int64', [2n ** 64n - 1n, -(2n ** 63n) - 1n, 2n ** 70n + 5n])).toEqual(new Uint8Array(reference.buffer));
    [2n ** 64n - 1n, -1n, 2n ** 70n + 5n].forEach((v, i) => reference.setBigUint64(i * 8, v, true));
    expect(encodeElements('uint64', [2n ** 64n - 1n, -1n, 2n ** 70n + 5n])).toEqual(new Uint8Array(reference.buffer));
    expect(() => encodeElements('int64', [1.5e300])).not.toThrow();
  });
});

describe('Tensor.toNumbers', () => {
  it('gives plain numbers of every dtype kind', () => {
    expect(Tensor.fromValues('float32', [3], [0.5, -1, 2]).toNumbers()).toEqual([0.5, -1, 2]);
    expect(Tensor.fromValues('uint64', [2], [2n ** 40n, 1n]).toNumbers()).toEqual([2 ** 40, 1]);
    expect(Tensor.fromValues('bool', [2], [true, false]).toNumbers()).toEqual([1, 0]);
    expect(Array.isArray(Tensor.fromValues('int8', [0], []).toNumbers())).toBe(true);
  });
});

describe('Value.users', () => {
  for (const uses of [1, 3, 8, 9, 40]) {
    it(`lists each reader once, in first-use order (${uses} uses)`, () => {
      const graph = new Graph('g');
      const x = graph.addInput('x', tensorType('float32', [1]));
      const readers = Array.from({ length: Math.ceil(uses / 2) }, (_, i) => graph.createNode({ op: 'onnx.Add', inputs: i % 2 ? [x, x] : [x], name: `n${i}` }));
      const expected = readers.filter((node) => node.inputs.length > 0);
      expect(x.users.map((node) => node.name)).toEqual(expected.map((node) => node.name));
      expect(x.useCount).toBe(readers.reduce((n, node) => n + node.inputs.length, 0));
    });
  }
});
