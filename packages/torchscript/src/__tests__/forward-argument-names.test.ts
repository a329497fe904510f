/**
 * Graph input names become `forward` argument names where they can: a Keras-made TFLite model's `input_1`
 * used to be renamed `input_0` (every `input_<N>` name was), so `--input-shape input_1=…` matched the
 * .tflite but not the .pt written from it (QA s10, MediaPipe full-range sparse face detection). A name that
 * is no identifier still gets `input_<index>`, made unique against the names kept. A graph input with a default
 * value (ONNX IR ≤ 3 lists initializers as inputs) is written as its default, not as a forward argument torch
 * then requires and nobody feeds (QA s10: "forward() is missing value for argument 'W'").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { readTorchScript, writeTorchScript } from '@modelpass/torchscript';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-forward-names-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('forward argument names', () => {
  it("keep 'input_1'; a name that is no identifier gets input_<index>, unique against the kept ones", () => {
    const b = new GraphBuilder();
    const odd = b.input('x.y', tensorType('float32', [2, 3]));
    const keras = b.input('input_1', tensorType('float32', [2, 3]));
    const taken = b.input('input_0', tensorType('float32', [2, 3]));
    b.output(b.op1('onnx.Add', [b.op1('onnx.Add', [odd, keras]), taken]));
    const path = join(dir, 'names.pt');
    writeTorchScript(b.model({ onnx: 17 }), path);
    const shape = { shape: [2, 3] };
    const read = readTorchScript(path, { inputs: { input_0_: shape, input_1: shape, input_0: shape } });
    expect(read.graph.inputs.map((value) => value.name)).toEqual(['input_0_', 'input_1', 'input_0']);
  });

  it("reads an input back under its own name ('input.1', torch.onnx's usual one) though forward calls it input_0", () => {
    // QA s18 round 16: .onnx → .pt → .onnx took 'input_0' where the source took 'input.1', so `compare a.onnx a.pt.onnx`
    // refused the pair ('the two models take different inputs') for nearly every torch.onnx export.
    const b = new GraphBuilder();
    const image = b.input('input.1', tensorType('float32', [2, 3]));
    const plain = b.input('x', tensorType('float32', [2, 3]));
    b.output(b.op1('onnx.Add', [image, plain]));
    const path = join(dir, 'dotted.pt');
    writeTorchScript(b.model({ onnx: 17 }), path);
    const shape = { shape: [2, 3] };
    // Shapes by the input's own name or by the argument's; named by the argument, the input keeps the argument's name.
    expect(readTorchScript(path, { inputs: { 'input.1': shape, x: shape } }).graph.inputs.map((value) => value.name)).toEqual(['input.1', 'x']);
    expect(readTorchScript(path, { inputs: [shape, shape] }).graph.inputs.map((value) => value.name)).toEqual(['input.1', 'x']);
    const byArgument = readTorchScript(path, { inputs: { input_0: shape, x: shape } });
    expect(byArgument.graph.inputs.map((value) => value.name)).toEqual(['input_0', 'x']);
    expect(byArgument.graph.inputs[0]!.type).toEqual(tensorType('float32', [2, 3]));
  });

  it('writes an input with a default value as that constant, not as a forward argument', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [1, 2]));
    const w = b.input('W', tensorType('float32', [2, 2]));
    b.graph.markConstant(w, Tensor.fromValues('float32', [2, 2], [1, 2, 3, 4]));
    b.output(b.op1('onnx.MatMul', [x, w]));
    const path = join(dir, 'defaulted.pt');
    writeTorchScript(b.model({ onnx: 9 }), path);
    const read = readTorchScript(path, { inputs: { x: { shape: [1, 2] } } });
    expect(read.graph.inputs.filter((value) => !value.constant).map((value) => value.name)).toEqual(['x']);
  });
});
