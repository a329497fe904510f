// QA s15 round 8: mutated MediaPipe .tflite files that TFLite 2.9 refuses when it prepares an operator were
// read and converted with exit 0 — ADD of float16 and float32 ("input1->type != input2->type"), PAD by -8
// ("Pad value has to be greater than equal to 0"), a CONV_2D bias of the wrong length. The reader refuses them.
// The writer refuses to write them too (last test), so each hostile file is a valid one with one field patched.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteBuffer } from 'flatbuffers';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Model, ModelpassError, Tensor, attrs, tensorType, type Node } from '@modelpass/ir';
import { readTflite, writeTflite } from '@modelpass/tflite';
import { Model as FbModel } from '../generated/flatbuffers/tflite.js';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-prepare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function model(build: (g: Graph) => Node): Model {
  const g = new Graph('main');
  g.setOutputs([build(g).output(0)]);
  const m = new Model(g);
  m.opsetImports.set('tflite', 3);
  return m;
}

function written(build: (g: Graph) => Node): string {
  const path = join(dir, `case-${counter++}.tflite`);
  writeTflite(model(build), path);
  return path;
}

/** Where field `slot` of tensor `name` (subgraph 0) lies in the file. */
function tensorField(bytes: Uint8Array, name: string, slot: number): number {
  const subgraph = FbModel.getRootAsModel(new ByteBuffer(bytes)).subgraphs(0)!;
  for (let i = 0; i < subgraph.tensorsLength(); i++) {
    const tensor = subgraph.tensors(i)!;
    if (tensor.name() !== name) continue;
    const offset = new ByteBuffer(bytes).__offset(tensor.bb_pos, 4 + 2 * slot);
    if (offset === 0) throw new Error(`field ${slot} of tensor ${name} is absent`);
    return tensor.bb_pos + offset;
  }
  throw new Error(`no tensor ${name}`);
}

/** A valid file of `build` with `patch` applied to its bytes. */
function patched(build: (g: Graph) => Node, patch: (bytes: Buffer) => void): string {
  const bytes = readFileSync(written(build));
  patch(bytes);
  const path = join(dir, `case-${counter++}.tflite`);
  writeFileSync(path, bytes);
  return path;
}

/** Replaces the first run of int32 `from` values in the file by `to`. */
function replaceInt32s(bytes: Buffer, from: number[], to: number[]): void {
  const needle = Buffer.from(new Int32Array(from).buffer);
  const at = bytes.indexOf(needle);
  if (at < 0) throw new Error(`no int32 run [${from}] in the file`);
  Buffer.from(new Int32Array(to).buffer).copy(bytes, at);
}

function refusal(path: string): ModelpassError {
  try {
    readTflite(path);
  } catch (error) {
    expect(ModelpassError.is(error), String(error)).toBe(true);
    return error as ModelpassError;
  }
  throw new Error(`${path} was read without an error`);
}

const add = (constantDtype: 'float16' | 'float32') => (g: Graph) =>
  g.createNode({
    op: 'tflite.ADD',
    inputs: [g.addInput('x', tensorType('float32', [1, 4])), g.addConstant('b', Tensor.fromValues(constantDtype, [1, 4], [1, 2, 3, 4]))],
    outputs: [{ name: 'y', type: tensorType('float32', [1, 4]) }],
    attributes: { fused_activation_function: attrs.string('NONE') },
  });

const pad = (paddings: number[]) => (g: Graph) =>
  g.createNode({
    op: 'tflite.PAD',
    inputs: [g.addInput('x', tensorType('float32', [1, 4])), g.addConstant('p', Tensor.fromValues('int32', [2, 2], paddings))],
    outputs: [{ name: 'y', type: tensorType('float32', [1, 4 + paddings[2]! + paddings[3]!]) }],
  });

const conv = (biasLength: number) => (g: Graph) =>
  g.createNode({
    op: 'tflite.CONV_2D',
    inputs: [
      g.addInput('x', tensorType('float32', [1, 4, 4, 2])),
      g.addConstant('w', Tensor.fromValues('float32', [3, 1, 1, 2], [1, 2, 3, 4, 5, 6])),
      g.addConstant('bias', Tensor.fromValues('float32', [biasLength], new Array<number>(biasLength).fill(0.5))),
    ],
    outputs: [{ name: 'y', type: tensorType('float32', [1, 4, 4, 3]) }],
    attributes: { padding: attrs.string('VALID'), stride_w: attrs.int(1), stride_h: attrs.int(1), dilation_w_factor: attrs.int(1), dilation_h_factor: attrs.int(1), fused_activation_function: attrs.string('NONE') },
  });

describe('operators TFLite refuses at prepare', () => {
  it('ADD of a float16 input and a float32 constant', () => {
    // Tensor field 1 is the TensorType; FLOAT32 (0) is the default and not stored, so the file is written with int32
    // operands (2) and the input's byte set to FLOAT16 (1).
    const intAdd = (g: Graph) =>
      g.createNode({
        op: 'tflite.ADD',
        inputs: [g.addInput('x', tensorType('int32', [1, 4])), g.addConstant('b', Tensor.fromValues('int32', [1, 4], [1, 2, 3, 4]))],
        outputs: [{ name: 'y', type: tensorType('int32', [1, 4]) }],
        attributes: { fused_activation_function: attrs.string('NONE') },
      });
    const error = refusal(patched(intAdd, (bytes) => (bytes[tensorField(bytes, 'x', 1)] = 1)));
    expect(error.diagnostics[0]).toMatchObject({ reason: "ADD's operands have different element types: 'x' float16 and 'b' int32", location: { op: 'tflite.ADD', path: 'subgraph 0/operator 0' } });
    expect(() => readTflite(written(add('float32')))).not.toThrow();
  });

  it('PAD by a negative amount', () => {
    expect(refusal(patched(pad([0, 0, 1, 2]), (bytes) => replaceInt32s(bytes, [0, 0, 1, 2], [0, 0, -1, 2]))).diagnostics[0]!.reason).toBe("PAD's paddings 'p' hold -1");
    expect(() => readTflite(written(pad([0, 0, 1, 2])))).not.toThrow();
  });

  it('CONV_2D whose bias is not one value per output channel', () => {
    // The filter [3,1,1,2] patched to [2,1,1,3] keeps its byte size; the bias still holds 3 values.
    const path = patched(conv(3), (bytes) => replaceInt32s(bytes, [3, 1, 1, 2], [2, 1, 1, 3]));
    expect(refusal(path).diagnostics[0]!.reason).toBe("CONV_2D's bias 'bias' [3] holds 3 values for the 2 output channels of filter 'w' [2,1,1,3]");
    expect(() => readTflite(written(conv(3)))).not.toThrow();
  });

  // Passes fuzz seed 1823 case 85: a Cast mutated to double legalized to an EQUAL of float32 and int64, which
  // writeTflite wrote and readTflite then refused. The writer now refuses what the reader refuses, naming the node.
  it('are not written: writeTflite refuses each, naming the node and the fault', () => {
    const refusedWrite = (build: (g: Graph) => Node): ModelpassError => {
      try {
        writeTflite(model(build), join(dir, `refused-${counter++}.tflite`));
      } catch (error) {
        expect(ModelpassError.is(error), String(error)).toBe(true);
        return error as ModelpassError;
      }
      throw new Error('the model was written');
    };
    const cases: [(g: Graph) => Node, string][] = [
      [add('float16'), "ADD's operands have different element types: 'x' float32 and 'b' float16 (expected operands of one element type)"],
      [pad([0, 0, -1, 2]), "PAD's paddings 'p' hold -1 (expected paddings of 0 or more)"],
      [conv(2), "CONV_2D's bias 'bias' [2] holds 2 values for the 3 output channels of filter 'w' [3,1,1,2] (expected 3 bias values)"],
    ];
    for (const [build, text] of cases) {
      const error = refusedWrite(build);
      expect(error.diagnostics[0]!.code).toBe('tflite/not-exportable');
      expect(error.message).toContain(text);
    }
  });
});
