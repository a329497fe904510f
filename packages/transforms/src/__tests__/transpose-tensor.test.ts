import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileRangeStorage, Tensor, type DType } from '@modelpass/ir';
import { composePermutations, invertPermutation, permuteDims, transposeTensor } from '@modelpass/transforms';

/** The element at `index` of Transpose(x, perm), computed the slow, obvious way. */
function naiveTranspose(values: number[], shape: number[], perm: number[]): number[] {
  const outShape = permuteDims(shape, perm);
  const count = values.length;
  const out = new Array<number>(count);
  for (let flat = 0; flat < count; flat++) {
    let rest = flat;
    const outIndex = new Array<number>(outShape.length);
    for (let axis = outShape.length - 1; axis >= 0; axis--) {
      outIndex[axis] = rest % outShape[axis]!;
      rest = Math.floor(rest / outShape[axis]!);
    }
    const inIndex = new Array<number>(shape.length);
    perm.forEach((axis, i) => (inIndex[axis] = outIndex[i]!));
    let source = 0;
    for (let axis = 0; axis < shape.length; axis++) source = source * shape[axis]! + inIndex[axis]!;
    out[flat] = values[source]!;
  }
  return out;
}

describe('transposeTensor', () => {
  const cases: [DType, number[], number[]][] = [
    ['float32', [2, 3, 4, 5], [0, 2, 3, 1]],
    ['float32', [6, 1, 3, 3], [1, 2, 3, 0]],
    ['int64', [3, 4, 2], [2, 0, 1]],
    ['float16', [2, 5, 3], [1, 2, 0]],
    ['int8', [4, 3, 2, 2, 2], [4, 3, 2, 1, 0]],
    ['float32', [7], [0]],
    // Batched 2-D transposes (blocked path): conv filters OIHW → OHWI with tiles crossing the edges.
    ['float32', [3, 70, 3, 3], [0, 2, 3, 1]],
    ['float32', [40, 33], [1, 0]],
    ['int8', [33, 65], [1, 0]],
    ['float16', [3, 1, 37, 5], [0, 2, 3, 1]],
    ['float32', [6, 4, 3, 3], [1, 2, 3, 0]],
    ['int32', [2, 3, 4, 5], [0, 3, 1, 2]],
    // Matrices past the column walk's size (2^16 elements) go by tiles: both walks are checked.
    ['float32', [260, 260], [1, 0]],
    ['int8', [2, 257, 256], [0, 2, 1]],
    // Only size-1 axes move: same bytes, new shape.
    ['float32', [5, 7, 1, 1], [0, 2, 3, 1]],
    ['int8', [1, 4, 1, 3], [2, 0, 1, 3]],
  ];
  for (const [dtype, shape, perm] of cases) {
    it(`${dtype}[${shape.join(',')}] by [${perm.join(',')}] equals the element-by-element definition`, () => {
      const count = shape.reduce((n, d) => n * d, 1);
      const values = Array.from({ length: count }, (_, i) => (dtype === 'int8' ? (i % 200) - 100 : i - 7));
      const tensor = Tensor.fromValues(dtype, shape, dtype === 'int64' ? values.map((v) => BigInt(v)) : values);
      const moved = transposeTensor(tensor, perm);
      expect(moved.shape).toEqual(permuteDims(shape, perm));
      expect(moved.toNumbers()).toEqual(naiveTranspose(values, shape, perm));
      // Moving back gives the same bytes.
      expect(transposeTensor(moved, invertPermutation(perm)).equals(tensor)).toBe(true);
    });
  }
  it('moves no data when only size-1 axes move: the result shares the storage (a lazy weight stays lazy)', () => {
    const tensor = Tensor.fromValues('float32', [4, 3, 1, 1], Array.from({ length: 12 }, (_, i) => i));
    const moved = transposeTensor(tensor, [0, 2, 3, 1]);
    expect(moved.shape).toEqual([4, 1, 1, 3]);
    expect(moved.storage).toBe(tensor.storage);
  });
  it('renumbers a per-channel quantization axis on the blocked path', () => {
    const tensor = Tensor.fromValues('int8', [2, 3, 2, 2], Array.from({ length: 24 }, (_, i) => i), { scale: [0.5, 0.25], zeroPoint: [0, 0], axis: 0 });
    expect(transposeTensor(tensor, [1, 2, 3, 0]).quant?.axis).toBe(3);
  });
  it('keeps NaN payloads bit for bit', () => {
    const bytes = new Uint8Array(new Uint32Array([0x7fa00001, 0xffc00002, 0x3f800000, 0x7f800001]).buffer);
    const tensor = Tensor.fromBytes('float32', [2, 2], bytes);
    expect(Array.from(new Uint32Array(transposeTensor(tensor, [1, 0]).bytes().slice().buffer))).toEqual([0x7fa00001, 0x3f800000, 0xffc00002, 0x7f800001]);
  });
  it('composes like two transposes', () => {
    expect(composePermutations([0, 2, 3, 1], [0, 3, 1, 2])).toEqual([0, 1, 2, 3]);
  });
});

describe('transposeTensor on unaligned storage', () => {
  it('reads a tensor whose bytes start at an odd offset of a Buffer (a file region)', () => {
    const backing = Buffer.alloc(1 + 24);
    const values = new Float32Array([1, 2, 3, 4, 5, 6]);
    Buffer.from(values.buffer).copy(backing, 1);
    const tensor = Tensor.fromBytes('float32', [2, 3], backing.subarray(1));
    expect(transposeTensor(tensor, [1, 0]).toNumbers()).toEqual([1, 4, 2, 5, 3, 6]);
  });
});

describe('transposeTensor of a weight still in its file', () => {
  it('is computed when read, and any chunk of it equals the same bytes of the eager transpose', () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelpass-transpose-'));
    try {
      const shape = [5, 7, 3, 3];
      const count = shape.reduce((n, d) => n * d, 1);
      const values = Float32Array.from({ length: count }, (_, i) => i * 0.5 - 3);
      const path = join(dir, 'weights.bin');
      writeFileSync(path, Buffer.concat([Buffer.alloc(3), Buffer.from(values.buffer)])); // at an odd offset in the file
      const lazy = Tensor.fromStorage('float32', shape, new FileRangeStorage(path, 3, count * 4));
      const eager = transposeTensor(Tensor.fromValues('float32', shape, Array.from(values)), [0, 2, 3, 1]);
      const moved = transposeTensor(lazy, [0, 2, 3, 1]);
      expect(moved.storage?.kind).toBe('computed');
      expect(moved.shape).toEqual([5, 3, 3, 7]);
      const expected = eager.bytes();
      for (const [start, length] of [[0, 4], [6, 250], [252, 252], [1000, count * 4 - 1000], [0, count * 4]] as const) {
        const chunk = new Uint8Array(length);
        moved.storage!.readChunk!(chunk, start);
        expect(Buffer.from(chunk).equals(Buffer.from(expected.subarray(start, start + length)))).toBe(true);
      }
      // Whole matrices are transposed straight into an aligned target; an unaligned one goes through scratch memory.
      for (const offset of [4, 1]) {
        const target = new Uint8Array(offset + count * 4).subarray(offset);
        moved.storage!.readChunk!(target, 0);
        expect(Buffer.from(target).equals(Buffer.from(expected))).toBe(true);
      }
      expect(moved.equals(eager)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
