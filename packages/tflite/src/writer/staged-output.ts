import type { AtomicFileOutput, Tensor } from '@modelpass/ir';

/** Size of the staging buffer: pieces are gathered into it and written in calls of about this size. */
const STAGING_BYTES = 1 << 20;
/** Chunk a constant larger than the staging buffer is streamed through (allocated per such constant's write, not kept). */
const STREAM_CHUNK_BYTES = 16 << 20;

/**
 * One staging buffer for every write of the process (writes are synchronous and do not nest): a model
 * written again reuses memory it has touched already instead of fresh pages.
 */
let shared: Uint8Array | undefined;

/**
 * Gathers a file's pieces (flatbuffer bytes, constants' data) into one reused buffer and writes it
 * out when full: a model with a thousand small constants is written in a few calls, without a copy
 * of its weights in memory. Constants still in their file (or computed when read, such as offline
 * transposes) are read straight into the staging buffer when they fit it, else in chunks of their own.
 *
 * The ONNX writer's FileSink (packages/onnx/src/export/byte-sink.ts) batches too but stays separate for now:
 * it writes at positions into a descriptor of its own, leaves all-zero blocks as holes and never reads a
 * storage into the middle of its batch; see the note there for what one shared sink in @modelpass/ir needs.
 */
export class StagedOutput {
  private readonly buffer: Uint8Array;
  private filled = 0;

  constructor(private readonly output: AtomicFileOutput) {
    shared ??= new Uint8Array(STAGING_BYTES);
    this.buffer = shared;
  }

  write(bytes: Uint8Array): void {
    if (bytes.byteLength > this.buffer.byteLength - this.filled) {
      this.flush();
      if (bytes.byteLength >= this.buffer.byteLength) {
        this.output.write(bytes);
        return;
      }
    }
    this.buffer.set(bytes, this.filled);
    this.filled += bytes.byteLength;
  }

  /**
   * The tensor's stored bytes: from memory; a lazy one that fits the staging buffer read straight into it;
   * a larger one streamed through its own chunk of up to 16 MiB. A chunk much smaller than the tensor would
   * cost computed storage dearly: an offline transpose reads every source matrix a chunk overlaps, so a
   * single big matrix would be read and transposed once per chunk.
   */
  writeTensor(tensor: Tensor): void {
    const storage = tensor.storage;
    if (!storage || storage.byteLength === 0) return;
    if (tensor.isLoaded || !storage.readChunk) {
      this.write(storage.read());
      return;
    }
    const length = storage.byteLength;
    if (length <= this.buffer.byteLength) {
      if (length > this.buffer.byteLength - this.filled) this.flush();
      storage.readChunk(this.buffer.subarray(this.filled, this.filled + length), 0);
      this.filled += length;
      return;
    }
    this.flush();
    const chunk = new Uint8Array(Math.min(STREAM_CHUNK_BYTES, length));
    for (let at = 0; at < length; at += chunk.byteLength) {
      const part = chunk.subarray(0, Math.min(chunk.byteLength, length - at));
      storage.readChunk(part, at);
      this.output.write(part);
    }
  }

  flush(): void {
    if (this.filled === 0) return;
    this.output.write(this.buffer.subarray(0, this.filled));
    this.filled = 0;
  }
}
