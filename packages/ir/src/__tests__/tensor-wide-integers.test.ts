import { describe, expect, it } from 'vitest';
import { Tensor } from '@modelpass/ir';

const SIGNED = [0n, 1n, -1n, 2n ** 31n - 1n, -(2n ** 31n), 2n ** 32n, -(2n ** 32n) - 7n, 2n ** 53n - 1n, 2n ** 53n + 1n, 2n ** 53n + 3n, -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n), 123456789012345678n];
const UNSIGNED = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n - 2049n];

/** The same elements stored one byte into a buffer (not 4-byte aligned), as a tensor read from a file range may be. */
function misaligned(tensor: Tensor): Tensor {
  const buffer = new Uint8Array(tensor.byteLength + 1);
  buffer.set(tensor.bytes(), 1);
  return Tensor.fromBytes(tensor.dtype, tensor.shape, buffer.subarray(1));
}

describe('Tensor.toNumbers of int64 and uint64', () => {
  it('gives what Number() gives for each BigInt element, rounding beyond 2^53 alike (aligned and misaligned bytes)', () => {
    for (const [dtype, values] of [['int64', SIGNED], ['uint64', UNSIGNED]] as const) {
      const tensor = Tensor.fromValues(dtype, [values.length], values);
      const expected = values.map((value) => Number(value));
      expect(tensor.toNumbers()).toEqual(expected);
      expect(misaligned(tensor).toNumbers()).toEqual(expected);
      expect(tensor.toNumbers().every((n, i) => Object.is(n, expected[i]))).toBe(true); // no -0 for 0
    }
  });

  it('reads a scalar and an empty tensor', () => {
    expect(Tensor.fromValues('int64', [], [-5n]).toNumbers()).toEqual([-5]);
    expect(Tensor.fromValues('uint64', [0], []).toNumbers()).toEqual([]);
  });
});

describe('Tensor.fromValues of int64 and uint64 from numbers', () => {
  const bytes = (tensor: Tensor): number[] => [...tensor.bytes()];
  it('stores a safe integer number as the BigInt of it would be stored (negatives wrap alike in uint64)', () => {
    const numbers = [0, -0, 1, -1, 7, -4294967296, 4294967295, 4294967296, -4294967297, 2 ** 53 - 1, -(2 ** 53 - 1), 123456789012];
    for (const dtype of ['int64', 'uint64'] as const) {
      const expected = Tensor.fromValues(dtype, [numbers.length], numbers.map((n) => BigInt(n)));
      expect(bytes(Tensor.fromValues(dtype, [numbers.length], numbers))).toEqual(bytes(expected));
    }
  });
  it('still truncates fractions and wraps numbers past 2^53 as before', () => {
    const numbers = [1.5, -2.7, 2 ** 60, -(2 ** 63), 2 ** 64 + 2 ** 12];
    const expected = Tensor.fromValues('int64', [numbers.length], numbers.map((n) => BigInt.asIntN(64, BigInt(Math.trunc(n)))));
    expect(bytes(Tensor.fromValues('int64', [numbers.length], numbers))).toEqual(bytes(expected));
    expect(() => Tensor.fromValues('int64', [1], [Number.NaN])).toThrow();
  });
});
