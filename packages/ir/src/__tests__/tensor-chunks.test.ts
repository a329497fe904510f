import { closeSync, mkdtempSync, openSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileRangeStorage, MemoryStorage, ModelpassError, Tensor } from '@modelpass/ir';

function sparseFile(size: number, marks: readonly [number, number][]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'modelpass-ir-chunks-')), 'data.bin');
  writeFileSync(path, '');
  truncateSync(path, size);
  const fd = openSync(path, 'r+');
  for (const [position, byte] of marks) writeSync(fd, new Uint8Array([byte]), 0, 1, position);
  closeSync(fd);
  return path;
}

describe('tensors read in chunks', () => {
  it('a tensor larger than one buffer cannot be loaded whole, but streams', () => {
    const size = 5 * 2 ** 30;
    const path = sparseFile(size, [[0, 9], [(1 << 20) + 1, 7]]);
    const tensor = Tensor.fromStorage('uint8', [size], new FileRangeStorage(path, 0, size));
    expect(() => tensor.bytes()).toThrow(ModelpassError);
    expect(() => tensor.bytes()).toThrow(/too large to load whole/);
    // Chunks come one at a time (only a chunk-sized buffer exists); read the first two.
    const chunks = tensor.byteChunks(1 << 20);
    const first = chunks.next().value as Uint8Array;
    expect([first.byteLength, first[0]]).toEqual([1 << 20, 9]);
    const second = chunks.next().value as Uint8Array;
    expect(second[1]).toBe(7);
    const elements = tensor.elementChunks(1 << 20);
    elements.next();
    expect(elements.next().value!.start).toBe(1 << 20);
  });

  it('elementChunks decodes in order with the index of each chunk', () => {
    const values = Array.from({ length: 37 }, (_, i) => i * 1.5);
    const tensor = Tensor.fromValues('float32', [37], values);
    const seen: number[] = [];
    const starts: number[] = [];
    for (const { start, elements } of tensor.elementChunks(40)) {
      starts.push(start);
      seen.push(...Array.from(elements as Float32Array));
    }
    expect(seen).toEqual(values);
    expect(starts).toEqual([0, 8, 16, 24, 32]);
    const nibbles = Tensor.fromBytes('uint4', [5], new Uint8Array([0x21, 0x43, 0x05]));
    const decoded: number[] = [];
    for (const { elements } of nibbles.elementChunks(1)) decoded.push(...Array.from(elements as ArrayLike<number>));
    expect(decoded).toEqual([1, 2, 3, 4, 5]);
  });

  it('equals compares large tensors chunk by chunk and finds a difference in the last byte', () => {
    const size = 40 << 20;
    const a = sparseFile(size, [[size - 1, 1]]);
    const b = sparseFile(size, [[size - 1, 2]]);
    const c = sparseFile(size, [[size - 1, 1]]);
    const tensor = (path: string) => Tensor.fromStorage('uint8', [size], new FileRangeStorage(path, 0, size));
    expect(tensor(a).equals(tensor(b))).toBe(false);
    expect(tensor(a).equals(tensor(c))).toBe(true);
    expect(tensor(a).equals(tensor(a))).toBe(true);
    // A storage without readChunk is compared whole.
    const whole = { kind: 'computed' as const, byteLength: size, read: () => tensor(c).bytes(), describe: () => 'plain' };
    expect(Tensor.fromStorage('uint8', [size], whole).equals(tensor(a))).toBe(true);
    expect(Tensor.fromStorage('uint8', [4], new MemoryStorage(new Uint8Array(4))).equals(Tensor.fromBytes('uint8', [4], new Uint8Array(4)))).toBe(true);
  });
});
