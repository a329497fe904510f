// QA s15 round 8: mutated MediaPipe .tflite files that TFLite 2.9 refuses when it prepares an operator were
// read and converted with exit 0 — ADD of float16 and float32 ("input1->type != input2->type"), PAD by -8
// ("Pad value has to be greater than equal to 0"), a CONV_2D bias of the wrong length. The reader refuses them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Model, ModelpassError, Tensor, attrs, tensorType, type Node } from '@modelpass/ir';
import { readTflite, writeTflite } from '@modelpass/tflite';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-prepare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function written(build: (g: Graph) => Node): string {
  const g = new Graph('main');
  g.setOutputs([build(g).output(0)]);
  const model = new Model(g);
  model.opsetImports.set('tflite', 3);
  const path = join(dir, `case-${counter++}.tflite`);
  writeTflite(model, path);
  return path;
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
  it('ADD of a float32 input and a float16 constant', () => {
    const error = refusal(written(add('float16')));
    expect(error.diagnostics[0]).toMatchObject({ reason: "ADD's operands have different element types: 'x' float32 and 'b' float16", location: { op: 'tflite.ADD', path: 'subgraph 0/operator 0' } });
    expect(() => readTflite(written(add('float32')))).not.toThrow();
  });

  it('PAD by a negative amount', () => {
    expect(refusal(written(pad([0, 0, -1, 2]))).diagnostics[0]!.reason).toBe("PAD's paddings 'p' hold -1");
    expect(() => readTflite(written(pad([0, 0, 1, 2])))).not.toThrow();
  });

  it('CONV_2D whose bias is not one value per output channel', () => {
    expect(refusal(written(conv(2))).diagnostics[0]!.reason).toBe("CONV_2D's bias 'bias' [2] holds 2 values for the 3 output channels of filter 'w' [3,1,1,2]");
    expect(() => readTflite(written(conv(3)))).not.toThrow();
  });
});
