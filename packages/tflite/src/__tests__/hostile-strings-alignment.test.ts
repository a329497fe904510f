// QA s16 (note10 'Left'): mutated .tflite files TFLite 2.9 refuses at load ('The model is not a valid Flatbuffer
// buffer': FlatBuffers' verifier) that the reader read with exit 0 — a name string whose terminating 0 byte was
// overwritten, bytes that are not UTF-8, a table, vtable, field or offset target out of alignment, an offset of 0.
// Each is a valid model written by writeTflite with one field patched in place.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Builder, ByteBuffer } from 'flatbuffers';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { readTflite, writeTflite } from '@modelpass/tflite';
import { AddOptions, Buffer as FbBuffer, BuiltinOptions, Model as FbModel, Operator, OperatorCode, SubGraph, Tensor as FbTensor } from '../generated/flatbuffers/tflite.js';
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

// QA s16: mutants TFLite 2.9 refuses when it builds the interpreter, read with exit 0 before.
describe('.tflite files TFLite builds no interpreter for', () => {
  const source = join(dir, 'interpreter-source.tflite');
  writeTflite(int8ConvModel(), source);
  const bytes = readFileSync(source);
  const buffer = new ByteBuffer(bytes);
  const root = bytes.readUInt32LE(0);

  it('refuses a schema version other than 3', () => {
    const versionAt = root + buffer.__offset(root, 4 + 2 * 0);
    for (const version of [1027, 2]) {
      const patched = Buffer.from(bytes);
      patched.writeUInt32LE(version, versionAt);
      expect(failure(patched).message).toContain(`model.version: schema version ${version} is not 3`);
    }
  });

  it('refuses quantization scales without zero points', () => {
    const tensor = FbModel.getRootAsModel(buffer).subgraphs(0)!.tensors(0)!;
    const quant = tensor.quantization()!.bb_pos;
    const zeroPoints = quant + buffer.__offset(quant, 4 + 2 * 3);
    const patched = Buffer.from(bytes);
    patched.writeUInt32LE(0, zeroPoints + patched.readUInt32LE(zeroPoints));
    expect(failure(patched).message).toMatch(/tensors\[0\]\.quantization\.zero_point: has 0 entries but scale has 1/);
  });

  it('refuses a variable tensor that has data in its buffer', () => {
    const file = (variable: boolean): string => {
      const builder = new Builder(1024);
      const data = FbBuffer.createDataVector(builder, new Uint8Array(Float32Array.from([1, 2, 3, 4]).buffer));
      const buffers = [0, 0, data, 0].map((d) => {
        FbBuffer.startBuffer(builder);
        if (d) FbBuffer.addData(builder, d);
        return FbBuffer.endBuffer(builder);
      });
      const tensors = (['x', 'w', 'y'] as const).map((name, i) => {
        const tensorName = builder.createString(name);
        const shape = FbTensor.createShapeVector(builder, [1, 4]);
        FbTensor.startTensor(builder);
        FbTensor.addShape(builder, shape);
        FbTensor.addBuffer(builder, i + 1);
        FbTensor.addName(builder, tensorName);
        if (name === 'w') FbTensor.addIsVariable(builder, variable);
        return FbTensor.endTensor(builder);
      });
      const inputs = Operator.createInputsVector(builder, [0, 1]);
      const outputs = Operator.createOutputsVector(builder, [2]);
      const options = AddOptions.createAddOptions(builder, 0, false);
      Operator.startOperator(builder);
      Operator.addOpcodeIndex(builder, 0);
      Operator.addInputs(builder, inputs);
      Operator.addOutputs(builder, outputs);
      Operator.addBuiltinOptionsType(builder, BuiltinOptions.AddOptions);
      Operator.addBuiltinOptions(builder, options);
      const add = Operator.endOperator(builder);
      const graph = SubGraph.createSubGraph(
        builder,
        SubGraph.createTensorsVector(builder, tensors),
        SubGraph.createInputsVector(builder, [0]),
        SubGraph.createOutputsVector(builder, [2]),
        SubGraph.createOperatorsVector(builder, [add]),
        builder.createString('main'),
        -1,
      );
      const codes = FbModel.createOperatorCodesVector(builder, [OperatorCode.createOperatorCode(builder, 0, 0, 1, 0)]);
      const subgraphs = FbModel.createSubgraphsVector(builder, [graph]);
      const bufferVector = FbModel.createBuffersVector(builder, buffers);
      FbModel.startModel(builder);
      FbModel.addVersion(builder, 3);
      FbModel.addOperatorCodes(builder, codes);
      FbModel.addSubgraphs(builder, subgraphs);
      FbModel.addBuffers(builder, bufferVector);
      builder.finish(FbModel.endModel(builder), 'TFL3');
      const path = join(dir, `variable-${variable}.tflite`);
      writeFileSync(path, builder.asUint8Array());
      return path;
    };
    expect(() => readTflite(file(false))).not.toThrow();
    expect(failure(readFileSync(file(true))).message).toMatch(/tensors\[1\]: variable tensor 'w' has data in its buffer/);
  });
});
