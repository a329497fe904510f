import type { AtomicFileOutput, Tensor } from '@modelpass/ir';

/** Size of the staging buffer: pieces are gathered into it and written in calls of about this size. */
const STAGING_BYTES = 1 << 20;
/** Most bytes of the chunk a constant larger than the staging buffer is streamed through. */
const STREAM_CHUNK_BYTES = 16 << 20;

/**
 * One staging buffer for every write of the process (writes are synchronous and do not nest): a model
 * written again reuses memory it has touched already instead of fresh pages.
 */
let shared: Uint8Array | undefined;

/**
 * The stream chunk, shared the same way and grown to the largest constant streamed so far (at most
 * 16 MiB): a fresh zero-filled chunk per large constant cost resnet18's write ~40 MB of zeroing and
 * page faults a round.
 */
let sharedChunk = new Uint8Array(0);

function streamChunk(length: number): Uint8Array {
  const size = Math.min(STREAM_CHUNK_BYTES, length);
  if (sharedChunk.byteLength < size) sharedChunk = new Uint8Array(size);
  return sharedChunk.subarray(0, size);
}

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
   * a larger one streamed through a chunk of up to 16 MiB (shared, like the staging buffer). A chunk much smaller than the tensor would
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
    const chunk = streamChunk(length);
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
