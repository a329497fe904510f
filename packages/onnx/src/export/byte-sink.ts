import { fstatSync, ftruncateSync, writeSync } from 'node:fs';
import type { TensorStorage } from '@modelpass/ir';
import { SourceRangeStorage } from '../import/source-file.js';

/** Where encoded bytes go: memory (encodeOnnx) or a file written in order (writeOnnx). */
export interface ByteSink {
  write(bytes: Uint8Array): void;
  readonly position: number;
}

export class MemorySink implements ByteSink {
  private readonly chunks: Uint8Array[] = [];
  position = 0;
  write(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    this.chunks.push(bytes);
    this.position += bytes.byteLength;
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.position);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }
}

const FLUSH_AT = 1 << 20;
/** Large writes are checked in blocks of this size; an all-zero block becomes a hole in the file. */
const HOLE_BLOCK = 1 << 20;
const ZERO_BLOCK = Buffer.alloc(HOLE_BLOCK);

/**
 * Appends to an open file descriptor; small writes are batched, large ones go straight through.
 * Large writes keep their all-zero 1 MiB blocks as holes (the file is sparse where the weights
 * are zero, as a sparse source file is), and `flush` sets the final size.
 *
 * Not merged with the TFLite writer's StagedOutput (packages/tflite/src/writer/staged-output.ts) into one
 * sink in @modelpass/ir, for now: this one writes at positions into a descriptor writeOnnx opened itself (a
 * model file and an external-data file, each renamed in place on its own, not through `writeFileAtomicWith`),
 * leaves holes and sets the final length, reports `position` for external-data offsets, and hands a
 * storage's `readChunk` only aligned buffers of its own (a storage may view them as typed arrays);
 * StagedOutput appends through `AtomicFileOutput` (no positions, no holes) and reads lazy tensors straight
 * into its staging buffer at any offset. One sink would first need `AtomicFileOutput` to write at positions
 * (holes, final length) and a rule for when a chunk may be read in place.
 */
export class FileSink implements ByteSink {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Where the next byte goes in the file (pending bytes not yet written count). */
  position = 0;
  /** Bytes written to the file so far (holes included). */
  private written = 0;
  constructor(private readonly fd: number) {}

  write(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    this.position += bytes.byteLength;
    if (bytes.byteLength >= FLUSH_AT) {
      this.writePending();
      this.writeLarge(bytes);
      return;
    }
    this.pending.push(bytes);
    this.pendingBytes += bytes.byteLength;
    if (this.pendingBytes >= FLUSH_AT) this.writePending();
  }

  /** Writes what is pending and gives the file its full length (a trailing hole included). */
  flush(): void {
    this.writePending();
    if (fstatSync(this.fd).size < this.written) ftruncateSync(this.fd, this.written);
  }

  private writePending(): void {
    if (this.pendingBytes === 0) return;
    writeAll(this.fd, Buffer.concat(this.pending, this.pendingBytes), this.written);
    this.written += this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
  }

  private writeLarge(bytes: Uint8Array): void {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let dataStart = 0; // start of the run of non-zero blocks not yet written
    for (let block = 0; block < buffer.byteLength; block += HOLE_BLOCK) {
      const end = Math.min(block + HOLE_BLOCK, buffer.byteLength);
      if (end - block === HOLE_BLOCK && ZERO_BLOCK.equals(buffer.subarray(block, end))) {
        if (block > dataStart) writeAll(this.fd, buffer.subarray(dataStart, block), this.written + dataStart);
        dataStart = end;
      }
    }
    if (dataStart < buffer.byteLength) writeAll(this.fd, buffer.subarray(dataStart), this.written + dataStart);
    this.written += buffer.byteLength;
  }
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.byteLength) done += writeSync(fd, bytes, done, Math.min(1 << 30, bytes.byteLength - done), position + done);
}

const COPY_CHUNK = 16 << 20;

/**
 * The buffer storages are copied through on their way to a FileSink, for chunks the sink writes out at
 * once (at least `FLUSH_AT` bytes; smaller ones wait in its batch, so they get buffers of their own).
 * Shared by every write of the process (writes are synchronous, and the sink is done with a chunk
 * before the next is read) and grown to the largest chunk so far, at most `COPY_CHUNK`: a fresh buffer
 * per tensor cost fresh pages (mapped and zeroed by the kernel) for every large weight of every write.
 */
let sharedCopyBuffer = Buffer.alloc(0);

function copyBuffer(size: number): Buffer {
  if (sharedCopyBuffer.byteLength < size) sharedCopyBuffer = Buffer.allocUnsafe(size);
  return sharedCopyBuffer.subarray(0, size);
}

/**
 * A storage that can fill part of its bytes without producing all of them (`TensorStorage.readChunk`
 * from `@modelpass/ir`): the lazy ranges `readOnnx` makes, file ranges, memory, and computed weights
 * given a chunk function. The writer copies those chunk by chunk, so a tensor larger than memory
 * never has to be loaded whole.
 */
export type ChunkReadableStorage = TensorStorage & Required<Pick<TensorStorage, 'readChunk'>>;

function readsInChunks(storage: TensorStorage): storage is ChunkReadableStorage {
  return typeof storage.readChunk === 'function';
}

/**
 * Writes a tensor's stored bytes; a file range (or any storage with `readChunk`) is copied in
 * chunks, never loaded whole. Ranges read by `readOnnx` go through their source (the file as it
 * was read, checked unchanged).
 */
export function writeStorage(sink: ByteSink, storage: TensorStorage): void {
  if (readsInChunks(storage) && (storage instanceof SourceRangeStorage || storage.byteLength > COPY_CHUNK)) {
    // Chunks of up to 16 MiB; those a FileSink writes out at once go through the shared copy buffer.
    const toFile = sink instanceof FileSink;
    for (let done = 0; done < storage.byteLength; ) {
      const size = Math.min(COPY_CHUNK, storage.byteLength - done);
      const chunk = toFile && size >= FLUSH_AT ? copyBuffer(size) : Buffer.allocUnsafe(size);
      storage.readChunk(chunk, done);
      sink.write(chunk);
      done += size;
    }
    return;
  }
  sink.write(storage.read());
}
