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
    let size: number;
    try {
      size = statSync(this.path).size;
    } catch (cause) {
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
    const bytes = new Uint8Array(this.byteLength);
    const fd = openSync(this.path, 'r');
    try {
      let done = 0;
      while (done < this.byteLength) {
        const n = readSync(fd, bytes, done, this.byteLength - done, this.offset + done);
        if (n === 0) break;
        done += n;
      }
    } finally {
      closeSync(fd);
    }
    return bytes;
  }

  describe(): string {
    return `file(${this.path}, offset=${this.offset}, length=${this.byteLength})`;
  }
}

/** Bytes produced by a function on first use, then cached (a folded constant, a converted weight). */
export class ComputedStorage implements TensorStorage {
  readonly kind = 'computed' as const;
  private cached: Uint8Array | undefined;
  constructor(
    readonly byteLength: number,
    private readonly compute: () => Uint8Array,
    private readonly label = 'computed',
  ) {}
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
