import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { ModelpassError } from './diagnostic.js';

/**
 * Where a tensor's bytes live. Bytes are little-endian, in ONNX `raw_data` layout
 * (sub-byte types packed low bits first; bool one byte per element).
 * Storage is lazy: nothing is read until `read()` is called, so a model larger than RAM can pass
 * through a pipeline that touches only some of its weights.
 */
export interface TensorStorage {
  readonly kind: 'memory' | 'file-range' | 'computed';
  readonly byteLength: number;
  /** Loads (or returns) the bytes. Callers must not mutate the result. */
  read(): Uint8Array;
  /** A short description for diagnostics and the textual IR. */
  describe(): string;
  /**
   * Fills `target` with the stored bytes starting at `start` (relative to the tensor's first
   * byte) without producing the whole tensor, when the storage can. Writers use it to stream
   * tensors larger than memory in fixed-size chunks.
   */
  readChunk?(target: Uint8Array, start: number): void;
}

function checkChunk(storage: TensorStorage, target: Uint8Array, start: number): void {
  if (start < 0 || start + target.byteLength > storage.byteLength) {
    throw new RangeError(`chunk [${start}, ${start + target.byteLength}) is outside ${storage.describe()}`);
  }
}

export class MemoryStorage implements TensorStorage {
  readonly kind = 'memory' as const;
  constructor(readonly bytes: Uint8Array) {}
  get byteLength(): number {
    return this.bytes.byteLength;
  }
  read(): Uint8Array {
    return this.bytes;
  }
  readChunk(target: Uint8Array, start: number): void {
    checkChunk(this, target, start);
    target.set(this.bytes.subarray(start, start + target.byteLength));
  }
  describe(): string {
    return `memory(${this.bytes.byteLength} bytes)`;
  }
}

/**
 * A byte range of a file, read on demand (ONNX external data, TFLite buffers past the flatbuffer,
 * TorchScript archive entries). The file is opened, read and closed on each `read()`.
 */
export class FileRangeStorage implements TensorStorage {
  readonly kind = 'file-range' as const;
  constructor(
    readonly path: string,
    readonly offset: number,
    readonly byteLength: number,
  ) {}

  read(): Uint8Array {
    const bytes = new Uint8Array(this.byteLength);
    this.readChunk(bytes, 0);
    return bytes;
  }

  readChunk(target: Uint8Array, start: number): void {
    checkChunk(this, target, start);
    let size: number;
    try {
      const stats = statSync(this.path);
      size = stats.size;
      if (!stats.isFile()) {
        // A FIFO or device would block the read or never end.
        throw new ModelpassError({
          reason: `cannot read tensor data: '${this.path}' is not a regular file`,
          location: { file: this.path },
          source: '@modelpass/ir',
        });
      }
    } catch (cause) {
      if (ModelpassError.is(cause)) throw cause;
      throw new ModelpassError({
        reason: `cannot read tensor data: file '${this.path}' is missing or unreadable`,
        location: { file: this.path },
        source: '@modelpass/ir',
        cause,
      });
    }
    if (this.offset + this.byteLength > size) {
      throw new ModelpassError({
        reason: `tensor data range [${this.offset}, ${this.offset + this.byteLength}) is past the end of '${this.path}'`,
        location: { file: this.path },
        expected: `a file of at least ${this.offset + this.byteLength} bytes`,
        actual: `${size} bytes`,
        source: '@modelpass/ir',
      });
    }
    const fd = openSync(this.path, 'r');
    try {
      let done = 0;
      while (done < target.byteLength) {
        const n = readSync(fd, target, done, target.byteLength - done, this.offset + start + done);
        if (n === 0) {
          throw new ModelpassError({
            reason: `'${this.path}' ended while reading tensor data at byte ${this.offset + start + done}`,
            location: { file: this.path },
            source: '@modelpass/ir',
          });
        }
        done += n;
      }
    } finally {
      closeSync(fd);
    }
  }

  describe(): string {
    return `file(${this.path}, offset=${this.offset}, length=${this.byteLength})`;
  }
}

/** Bytes produced by a function on first use, then cached (a folded constant, a converted weight). */
export class ComputedStorage implements TensorStorage {
  readonly kind = 'computed' as const;
  private cached: Uint8Array | undefined;
  /**
   * @param compute produces all bytes (called once, then cached)
   * @param computeChunk optionally produces a part of them, so writers can stream the tensor
   *   without ever holding it whole
   */
  constructor(
    readonly byteLength: number,
    private readonly compute: () => Uint8Array,
    private readonly label = 'computed',
    private readonly computeChunk?: (target: Uint8Array, start: number) => void,
  ) {}
  readChunk(target: Uint8Array, start: number): void {
    checkChunk(this, target, start);
    if (this.cached || !this.computeChunk) target.set(this.read().subarray(start, start + target.byteLength));
    else this.computeChunk(target, start);
  }
  read(): Uint8Array {
    if (!this.cached) {
      const bytes = this.compute();
      if (bytes.byteLength !== this.byteLength) {
        throw new ModelpassError({
          reason: `computed tensor '${this.label}' produced ${bytes.byteLength} bytes`,
          expected: `${this.byteLength} bytes`,
          actual: `${bytes.byteLength} bytes`,
          source: '@modelpass/ir',
        });
      }
      this.cached = bytes;
    }
    return this.cached;
  }
  describe(): string {
    return `${this.label}(${this.byteLength} bytes)`;
  }
}
