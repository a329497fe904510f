import { Tensor, type AtomicFileOutput, type TensorStorage } from '@modelpass/ir';
import { describe, expect, it } from 'vitest';
import { StagedOutput } from './staged-output.js';

/** Lazy storage over `bytes` that records each `readChunk` (start, length). */
function lazyStorage(bytes: Uint8Array, reads: [number, number][]): TensorStorage {
  return {
    kind: 'computed',
    byteLength: bytes.byteLength,
    read: () => bytes.slice(),
    describe: () => 'test storage',
    readChunk(target, start) {
      reads.push([start, target.byteLength]);
      target.set(bytes.subarray(start, start + target.byteLength));
    },
  };
}

function collecting(): { output: AtomicFileOutput; writes: number[]; bytes: () => Uint8Array } {
  const parts: Uint8Array[] = [];
  const writes: number[] = [];
  const output: AtomicFileOutput = {
    write(bytes) {
      parts.push(bytes.slice());
      writes.push(bytes.byteLength);
    },
    get bytesWritten() {
      return writes.reduce((n, w) => n + w, 0);
    },
  };
  return { output, writes, bytes: () => Uint8Array.from(parts.flatMap((p) => [...p])) };
}

const pattern = (length: number, seed: number) => new Uint8Array(length).map((_, i) => (i * 31 + seed) & 0xff);

describe('StagedOutput', () => {
  it('writes pieces and tensors in order, small ones gathered into few writes', () => {
    const sink = collecting();
    const staged = new StagedOutput(sink.output);
    const head = pattern(100, 1);
    const loaded = Tensor.fromBytes('uint8', [300], pattern(300, 2));
    const reads: [number, number][] = [];
    const lazyBytes = pattern(5000, 3);
    const lazy = Tensor.fromStorage('uint8', [5000], lazyStorage(lazyBytes, reads));
    staged.write(head);
    staged.writeTensor(loaded);
    staged.writeTensor(lazy);
    staged.write(head);
    staged.flush();
    expect(sink.bytes()).toEqual(Uint8Array.from([...head, ...loaded.bytes(), ...lazyBytes, ...head]));
    expect(sink.writes).toEqual([100 + 300 + 5000 + 100]);
    expect(reads).toEqual([[0, 5000]]);
  });

  it('streams a lazy tensor larger than the staging buffer in chunks of up to 16 MiB, not 1 MiB', () => {
    const sink = collecting();
    const staged = new StagedOutput(sink.output);
    const reads: [number, number][] = [];
    const size = 3 * (1 << 20) + 5;
    const bytes = pattern(size, 4);
    staged.write(pattern(10, 5));
    staged.writeTensor(Tensor.fromStorage('uint8', [size], lazyStorage(bytes, reads)));
    staged.flush();
    // One read of the whole tensor: a transposed weight computed per chunk would otherwise be transposed once per MiB.
    expect(reads).toEqual([[0, size]]);
    // Compared natively: a deep equality over 3 MiB element by element took minutes on a loaded machine (60 s timeout).
    expect(Buffer.compare(sink.bytes().subarray(10), bytes)).toBe(0);
  });

  it('streams large tensors one after another through one reused chunk, each written whole and right', () => {
    const sink = collecting();
    const staged = new StagedOutput(sink.output);
    const chunks: ArrayBufferLike[] = [];
    const sizes = [2 * (1 << 20) + 7, (1 << 20) + 3, 2 * (1 << 20) + 1];
    const tensors = sizes.map((size, i) => {
      const bytes = pattern(size, 10 + i);
      const storage = lazyStorage(bytes, []);
      const readChunk = storage.readChunk!;
      return {
        bytes,
        tensor: Tensor.fromStorage('uint8', [size], {
          ...storage,
          readChunk(target: Uint8Array, start: number) {
            chunks.push(target.buffer);
            readChunk(target, start);
          },
        }),
      };
    });
    for (const { tensor } of tensors) staged.writeTensor(tensor);
    staged.flush();
    expect(Buffer.compare(sink.bytes(), Buffer.concat(tensors.map(({ bytes }) => bytes)))).toBe(0);
    expect(chunks).toHaveLength(3);
    expect(new Set(chunks).size).toBe(1); // no fresh zero-filled chunk per tensor
  });
});
