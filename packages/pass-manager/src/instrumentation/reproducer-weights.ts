import { closeSync, openSync, writeSync } from 'node:fs';
import type { FileRangeStorage } from '@modelpass/ir';

/** The data file a reproducer keeps next to its `input.mpir`. */
export const REPRODUCER_WEIGHTS_FILE = 'weights.bin';

/** File-backed tensors up to this size are written inline in `input.mpir` instead. */
const INLINE_BYTES = 4096;
/** Each copied range starts on this boundary in `weights.bin`. */
const ALIGNMENT = 64;
const COPY_CHUNK_BYTES = 1 << 20;

interface PlacedRange {
  readonly source: FileRangeStorage;
  readonly offset: number;
}

/**
 * Makes a reproducer self-contained: while its input is printed, every file-backed tensor (the
 * weights of the model being compiled, wherever they live) is given a place in the reproducer's own
 * `weights.bin` and referenced there by a relative `file(...)` path, which the parser resolves
 * against the reproducer's folder; small ones are inlined. When the reproducer is written, the
 * ranges are copied over, so the folder can be moved, zipped or sent on as it is.
 */
export class ReproducerWeights {
  private readonly placed: PlacedRange[] = [];
  private readonly byKey = new Map<string, number>();
  private size = 0;

  /** For `PrintOptions.mapFileReference`. */
  readonly place = (source: FileRangeStorage): { path: string; offset: number } | undefined => {
    if (source.byteLength <= INLINE_BYTES) return undefined;
    const key = `${source.path}\0${source.offset}\0${source.byteLength}`;
    let offset = this.byKey.get(key);
    if (offset === undefined) {
      offset = Math.ceil(this.size / ALIGNMENT) * ALIGNMENT;
      this.size = offset + source.byteLength;
      this.byKey.set(key, offset);
      this.placed.push({ source, offset });
    }
    return { path: REPRODUCER_WEIGHTS_FILE, offset };
  };

  get isEmpty(): boolean {
    return this.placed.length === 0;
  }

  /** Copies every placed range into `path` (created), 1 MiB at a time. */
  writeTo(path: string): void {
    const fd = openSync(path, 'wx');
    try {
      const chunk = new Uint8Array(COPY_CHUNK_BYTES);
      for (const { source, offset } of this.placed) {
        for (let start = 0; start < source.byteLength; start += COPY_CHUNK_BYTES) {
          const piece = chunk.subarray(0, Math.min(COPY_CHUNK_BYTES, source.byteLength - start));
          source.readChunk(piece, start);
          let done = 0;
          while (done < piece.byteLength) done += writeSync(fd, piece, done, piece.byteLength - done, offset + start + done);
        }
      }
    } finally {
      closeSync(fd);
    }
  }
}
