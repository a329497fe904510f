// QA s16 (note10 'Left'): mutated .tflite files TFLite 2.9 refuses at load ('The model is not a valid Flatbuffer
// buffer': FlatBuffers' verifier) that the reader read with exit 0 — a name string whose terminating 0 byte was
// overwritten, bytes that are not UTF-8, a table, vtable, field or offset target out of alignment, an offset of 0.
// Each is a valid model written by writeTflite with one field patched in place.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteBuffer } from 'flatbuffers';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { readTflite, writeTflite } from '@modelpass/tflite';
import { Model as FbModel } from '../generated/flatbuffers/tflite.js';
import { int8ConvModel } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-hostile-strings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function failure(bytes: Uint8Array): ModelpassError {
  const path = join(dir, `case-${counter++}.tflite`);
  writeFileSync(path, bytes);
  try {
    readTflite(path);
  } catch (error) {
    expect(ModelpassError.is(error), String((error as Error).stack)).toBe(true);
    expect((error as ModelpassError).location?.file).toBe(path);
    return error as ModelpassError;
  }
  throw new Error(`${path} was read without an error`);
}

describe('.tflite strings, alignment and offsets as FlatBuffers verifies them', () => {
  const source = join(dir, 'source.tflite');
  writeTflite(int8ConvModel(), source);
  const bytes = readFileSync(source);
  const buffer = new ByteBuffer(bytes);
  const subgraph = FbModel.getRootAsModel(buffer).subgraphs(0)!;
  const tensor = subgraph.tensors(0)!;
  const nameField = tensor.bb_pos + buffer.__offset(tensor.bb_pos, 4 + 2 * 3);
  const name = nameField + bytes.readUInt32LE(nameField);
  const nameLength = bytes.readUInt32LE(name);

  it('reads the file as written', () => {
    expect(() => readTflite(source)).not.toThrow();
  });

  it('refuses a name string without its terminating 0 byte, naming the table and field', () => {
    const patched = Buffer.from(bytes);
    patched[name + 4 + nameLength] = 0x41;
    expect(failure(patched).message).toContain(`model.subgraphs[0].tensors[0].name: the string of ${nameLength} bytes at offset ${name} has no terminating 0 byte`);
  });

  it('refuses a name that is not UTF-8', () => {
    const patched = Buffer.from(bytes);
    patched[name + 4] = 0xff;
    patched[name + 5] = 0xfe;
    expect(failure(patched).message).toMatch(/model\.subgraphs\[0\]\.tensors\[0\]\.name: the string of \d+ bytes at offset \d+ is not UTF-8 \(.*got bytes ff fe/);
  });

  it('refuses an offset of 0 or one pointing off alignment', () => {
    const zero = Buffer.from(bytes);
    zero.writeUInt32LE(0, nameField);
    expect(failure(zero).message).toContain(`tensors[0].name: the offset at ${nameField} is 0 (expected an offset in [1, 2^31) past the field)`);
    const odd = Buffer.from(bytes);
    odd.writeUInt32LE(bytes.readUInt32LE(nameField) + 1, nameField);
    expect(failure(odd).message).toContain(`tensors[0].name: the offset at ${nameField} points to ${name + 1}, which is not 4-byte aligned`);
  });

  it('refuses a vtable off alignment and a field off its size', () => {
    const vtableOdd = Buffer.from(bytes);
    vtableOdd.writeInt32LE(bytes.readInt32LE(tensor.bb_pos) + 1, tensor.bb_pos);
    expect(failure(vtableOdd).message).toMatch(/model\.subgraphs\[0\]\.tensors\[0\] \(vtable\): the vtable at offset \d+ is not 2-byte aligned/);
    // The vtable entry of the tensor's 'buffer' field (slot 2, a uint32) moved by one byte.
    const vtable = tensor.bb_pos - bytes.readInt32LE(tensor.bb_pos);
    const misaligned = Buffer.from(bytes);
    misaligned.writeUInt16LE(bytes.readUInt16LE(vtable + 4 + 2 * 2) + 1, vtable + 4 + 2 * 2);
    expect(failure(misaligned).message).toMatch(/tensors\[0\]\.buffer: the uint32 field at offset \d+ is not 4-byte aligned/);
  });
});
