import { writeFileAtomicWith, type Model } from '@modelpass/ir';
import { TABLE_SLOTS } from '../generated/schema-tables.js';
import { tfliteError } from '../io/errors.js';
import { FlatBytes, TableReader } from '../reader/table-reader.js';
import { buildFlatbuffer, fillConstants } from './flatbuffer-build.js';
import { planModel } from './model-plan.js';
import { assertExportable } from './validate.js';

export interface WriteTfliteOptions {
  /**
   * Constant bytes above which every buffer is stored after the flatbuffer (`Buffer.offset/size`,
   * schema 3c) instead of inside it (default 1 GiB: npm flatbuffers cannot grow a buffer past ~1 GiB,
   * and a flatbuffer cannot pass 2 GiB). Runtimes before TFLite 2.13 read only inline buffers.
   */
  readonly externalBuffersAbove?: number;
}

const DEFAULT_EXTERNAL_ABOVE = 2 ** 30;
const ALIGN = 16;
/** Constants in memory up to this size are copied into the flatbuffer; bigger or lazy ones are streamed. */
const COPY_INLINE_BELOW = 256 * 1024;
/**
 * Lazy constants (still in their file, or computed such as offline transposes) are read straight into their
 * regions of the flatbuffer while their total stays under this: the room is reserved anyway, and a small model
 * is then written in one call instead of two writes (and a scratch copy) per weight. Beyond it they are streamed
 * through one reused chunk: a big model's weights are never all held in memory at once, and fewer fresh pages are
 * touched (filling 16 MiB in place cost mobilenet/efficientnet-sized models 6–15% in page faults).
 */
const FILL_IN_PLACE_BYTES = 1 << 20;
/** Size of the buffer streamed tensors pass through. */
const STREAM_CHUNK_BYTES = 16 << 20;

/**
 * Writes a model of the tflite dialect as a .tflite file: every node must be a `tflite.*` op (run
 * legalize-tflite on canonical models first); problems are reported per node before anything is
 * written. Buffers are 16-byte aligned, `buffers[0]` is the empty sentinel, both opcode fields are
 * set. The file appears whole or not at all (temporary file + rename).
 */
export function writeTflite(model: Model, path: string, options: WriteTfliteOptions = {}): void {
  assertExportable(model, path);
  const threshold = options.externalBuffersAbove ?? DEFAULT_EXTERNAL_ABOVE;
  if (!Number.isSafeInteger(threshold) || threshold < 0) {
    throw tfliteError({ reason: 'invalid writeTflite option externalBuffersAbove', expected: 'a byte count ≥ 0', actual: String(threshold), location: { file: path } });
  }
  const plan = planModel(model, path);
  const external = plan.bufferBytes > threshold;
  const built = buildFlatbuffer(model, plan, external, path);
  if (!external) {
    // The constants' regions were left empty in the flatbuffer: stream each tensor into its place.
    // Small constants already in memory are copied into their regions: one write instead of two each.
    let filled = 0;
    const streamed = built.constants.filter(({ start, tensor }) => {
      if (tensor.isLoaded && tensor.byteLength <= COPY_INLINE_BELOW) {
        built.bytes.set(tensor.bytes(), start);
        return false;
      }
      const storage = tensor.storage!;
      if (filled + storage.byteLength > FILL_IN_PLACE_BYTES) return true;
      filled += storage.byteLength;
      const region = built.bytes.subarray(start, start + storage.byteLength);
      if (storage.readChunk) storage.readChunk(region, 0);
      else region.set(storage.read());
      return false;
    });
    // One chunk buffer for every streamed tensor (no fresh memory per weight).
    const largest = streamed.reduce((n, { tensor }) => Math.max(n, tensor.byteLength), 0);
    const chunk = new Uint8Array(Math.min(STREAM_CHUNK_BYTES, largest));
    writeFileAtomicWith(path, (output) => {
      let position = 0;
      for (const { start, tensor } of streamed) {
        output.write(built.bytes.subarray(position, start));
        const storage = tensor.storage!;
        if (storage.readChunk) {
          for (let at = 0; at < storage.byteLength; at += chunk.byteLength) {
            const part = chunk.subarray(0, Math.min(chunk.byteLength, storage.byteLength - at));
            storage.readChunk(part, at);
            output.write(part);
          }
        } else {
          output.write(storage.read());
        }
        position = start + storage.byteLength;
      }
      output.write(built.bytes.subarray(position));
    });
    return;
  }
  // Patch each Buffer's offset now that the flatbuffer's size is known; data follows, 16-byte aligned.
  const bytes = built.bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flat = new FlatBytes(bytes, path);
  const offsets: number[] = [];
  let position = alignUp(bytes.byteLength);
  plan.buffers.forEach((tensor, index) => {
    if (index === 0 || !tensor) return;
    const table = new TableReader(flat, bytes.byteLength - built.bufferTables[index]!, `buffers[${index}]`);
    view.setBigUint64(table.fieldPosition(TABLE_SLOTS.Buffer.offset), BigInt(position), true);
    offsets[index] = position;
    position = alignUp(position + (tensor.storage?.byteLength ?? 0));
  });
  writeFileAtomicWith(path, (output) => {
    output.write(bytes);
    plan.buffers.forEach((tensor, index) => {
      if (index === 0 || !tensor) return;
      const padding = offsets[index]! - output.bytesWritten;
      if (padding > 0) output.write(new Uint8Array(padding));
      for (const chunk of tensor.byteChunks()) output.write(chunk);
    });
  });
}

/**
 * The bytes of a .tflite file for `model`, every buffer inside the flatbuffer (for runtimes that
 * take a model in memory). Models whose constants pass ~1 GiB must be written with `writeTflite`.
 */
export function encodeTflite(model: Model, name = '<in-memory model>'): Uint8Array {
  assertExportable(model, name);
  const plan = planModel(model, name);
  if (plan.bufferBytes > DEFAULT_EXTERNAL_ABOVE) {
    throw tfliteError({
      reason: `cannot encode ${name} in memory: its constants take ${plan.bufferBytes} bytes`,
      expected: `at most ${DEFAULT_EXTERNAL_ABOVE} bytes (a flatbuffer cannot hold more)`,
      hint: 'write it to a file with writeTflite, which stores big buffers after the flatbuffer',
    });
  }
  return fillConstants(buildFlatbuffer(model, plan, false, name));
}

function alignUp(value: number): number {
  return Math.ceil(value / ALIGN) * ALIGN;
}
