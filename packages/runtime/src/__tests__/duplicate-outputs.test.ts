/**
 * A graph that lists one value twice among its outputs (`return %r, %r`, which ONNX and TFLite both allow):
 * ONNX Runtime returns the name twice and the TFLite runtime has two output slots of one tensor. Each engine
 * must hand back that output once (QA s10: ORT failed with "The tensor is disposed." — the second read of a
 * tensor disposed after the first — and TFLite concatenated both slots into a tensor twice its size).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseModel, Tensor } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { lowerToTflite, writeTflite } from '@modelpass/tflite';
import { disposeSharedOrtRunner, OrtRunner, TfliteEngine } from '@modelpass/runtime';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-duplicate-outputs-'));
const ort = new OrtRunner();
const tflite = new TfliteEngine();
afterAll(async () => {
  await ort.dispose();
  await tflite.dispose();
  await disposeSharedOrtRunner();
  rmSync(dir, { recursive: true, force: true });
});

const source = `model ir_version=8 opsets{onnx=13} {
graph @main(%x: float32[1,4]) {
  %r: float32[1,4] = onnx.Relu(%x) name="relu"
  return %r, %r
}
}`;
const x = Tensor.fromValues('float32', [1, 4], [-1, 2, -3, 4]);

describe('a value listed twice among the graph outputs', () => {
  it('ONNX Runtime: one output r, [0, 2, 0, 4]', async () => {
    const path = join(dir, 'twice.onnx');
    writeFileSync(path, encodeOnnx(parseModel(source)));
    const outputs = await ort.run(path, { x });
    expect([...outputs.keys()]).toEqual(['r']);
    expect(outputs.get('r')!.shape).toEqual([1, 4]);
    expect(outputs.get('r')!.toNumbers()).toEqual([0, 2, 0, 4]);
  });

  it('TFLite runtime: one output r of the tensor\'s own size, [0, 2, 0, 4]', async () => {
    const model = parseModel(source);
    lowerToTflite(model, createOpRegistry());
    const path = join(dir, 'twice.tflite');
    writeTflite(model, path);
    expect(tflite.describe(path).outputs.map((output) => output.name)).toEqual(['r', 'r']);
    const outputs = await tflite.run(path, { x });
    expect([...outputs.keys()]).toEqual(['r']);
    expect(outputs.get('r')!.shape).toEqual([1, 4]);
    expect(outputs.get('r')!.toNumbers()).toEqual([0, 2, 0, 4]);
  });
});
