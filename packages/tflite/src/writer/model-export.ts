import { batchSourceReads, writeFileAtomicWith, type Model } from '@modelpass/ir';
import { TABLE_SLOTS } from '../generated/schema-tables.js';
import { tfliteError } from '../io/errors.js';
import { checkWriteTfliteArguments } from '../io/api-arguments.js';
import { FlatBytes, TableReader } from '../reader/table-reader.js';
import { buildFlatbuffer, fillConstants, type BuiltFlatbuffer } from './flatbuffer-build.js';
import { planModel, type ModelPlan } from './model-plan.js';
import { StagedOutput } from './staged-output.js';
import { assertExportable } from './validate.js';

export interface WriteTfliteOptions {
  /**
   * Constant bytes above which every buffer is stored after the flatbuffer (`Buffer.offset/size`,
   * schema 3c) instead of inside it (default 1 GiB: a flatbuffer's offsets cannot pass 2 GiB).
   * Runtimes before TFLite 2.13 read only inline buffers.
   */
  readonly externalBuffersAbove?: number;
}

const DEFAULT_EXTERNAL_ABOVE = 2 ** 30;
const ALIGN = 16;

/**
 * Writes a model of the tflite dialect as a .tflite file: every node must be a `tflite.*` op (run
 * legalize-tflite on canonical models first); problems are reported per node before anything is
 * written. Buffers are 16-byte aligned, `buffers[0]` is the empty sentinel, both opcode fields are
 * set. The file appears whole or not at all (temporary file + rename).
 */
export function writeTflite(model: Model, path: string, options: WriteTfliteOptions = {}): void {
  checkWriteTfliteArguments(model, path, options);
  assertExportable(model, path);
  const threshold = options.externalBuffersAbove ?? DEFAULT_EXTERNAL_ABOVE;
  if (!Number.isSafeInteger(threshold) || threshold < 0) {
    throw tfliteError({ reason: 'invalid writeTflite option externalBuffersAbove', expected: 'a byte count ≥ 0', actual: String(threshold), location: { file: path } });
  }
  const plan = planModel(model, path);
  const external = plan.bufferBytes > threshold;
  const built = buildFlatbuffer(model, plan, external, path);
  try {
    writeBuilt(path, plan, built, external);
  } finally {
    built.release();
  }
}

/** Writes the built flatbuffer and the constants' data, inside it or after it (`external`). */
function writeBuilt(path: string, plan: ModelPlan, built: BuiltFlatbuffer, external: boolean): void {
  if (!external) {
    // The built bytes with each constant's data streamed in at its region, through one staging buffer.
    writeFileAtomicWith(path, (output) => {
      const staging = new StagedOutput(output);
      let position = 0;
      for (const { split, tensor } of built.constants) {
        staging.write(built.bytes.subarray(position, split));
        staging.writeTensor(tensor);
        position = split;
      }
      staging.write(built.bytes.subarray(position));
      staging.flush();
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
  const built = buildFlatbuffer(model, plan, false, name);
  try {
    return batchSourceReads(() => fillConstants(built));
  } finally {
    built.release();
  }
}

function alignUp(value: number): number {
  return Math.ceil(value / ALIGN) * ALIGN;
}
