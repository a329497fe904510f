/**
 * Graph input names become `forward` argument names where they can: a Keras-made TFLite model's `input_1`
 * used to be renamed `input_0` (every `input_<N>` name was), so `--input-shape input_1=…` matched the
 * .tflite but not the .pt written from it (QA s10, MediaPipe full-range sparse face detection). A name that
 * is no identifier still gets `input_<index>`, made unique against the names kept.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, tensorType } from '@modelpass/ir';
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
});
