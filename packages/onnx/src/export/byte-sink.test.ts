import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SourceFile, SourceRangeStorage } from '@modelpass/ir';
import { FileSink, writeStorage } from './byte-sink.js';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-onnx-byte-sink-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file range that records the buffer each chunk is read into. */
class RecordingRange extends SourceRangeStorage {
  constructor(
    source: SourceFile,
    offset: number,
    byteLength: number,
    private readonly buffers: ArrayBufferLike[],
  ) {
    super(source, offset, byteLength);
  }
  override readChunk(target: Uint8Array, start: number): void {
    this.buffers.push(target.buffer);
    super.readChunk(target, start);
  }
}

describe('writeStorage into a FileSink', () => {
  it('copies large ranges through one reused buffer, small ones through their own, bytes in order', () => {
    const MiB = 1 << 20;
    const sizes = [17 * MiB + 7, 100, 2 * MiB + 3, MiB + 5]; // the first: a 16 MiB chunk, then a 1 MiB + 7 one
    const total = sizes.reduce((a, b) => a + b, 0);
    const data = Buffer.alloc(total);
    for (let i = 0; i < total; i++) data[i] = (i * 131 + (i >> 12)) & 0xff;
    const sourcePath = join(dir, 'source.bin');
    writeFileSync(sourcePath, data);
    const source = new SourceFile(sourcePath);
    const buffers: ArrayBufferLike[] = [];
    const out = join(dir, 'out.bin');
    const fd = openSync(out, 'w');
    try {
      const sink = new FileSink(fd);
      let offset = 0;
      for (const size of sizes) {
        writeStorage(sink, new RecordingRange(source, offset, size, buffers));
        offset += size;
      }
      sink.flush();
    } finally {
      closeSync(fd);
      source.close();
    }
    expect(Buffer.compare(readFileSync(out), data)).toBe(0);
    expect(buffers).toHaveLength(5);
    const [big, tail, small, third, fourth] = buffers;
    // Chunks of 1 MiB or more share one buffer (written out before the next is read); the 100 bytes wait in the sink's batch.
    expect(new Set([big, tail, third, fourth]).size).toBe(1);
    expect(small).not.toBe(big);
  });
});
