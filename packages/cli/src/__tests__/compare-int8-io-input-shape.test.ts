/**
 * `compare a.onnx a.tflite --input-shape x=…` where the .tflite has int8 inputs and outputs (legalize-tflite{io-type=int8}):
 * the flag restated the .tflite's input as a plain int8 tensor and dropped its scale and zero point, so the float feed
 * was no longer quantized for it and the TFLite runtime refused it ("expected int8[1,3,6,10] …, got float32") — QA s17
 * round 13's PaddleOCR cls recipe (`--input-shape x=1,3,48,192`, with or without --inputs). The quantization is kept.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseModel, Tensor } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, writeNpy } from '@modelpass/runtime';
import { runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-compare-int8-io-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(temp, { recursive: true, force: true });
});

const model = parseModel(`model ir_version=8 opsets{onnx=13} {
graph @main(%x: float32[N,3,H,W]) {
  const %s = tensor<float32[]> [0.02]
  const %z = tensor<int8[]> [0]
  const %so = tensor<float32[]> [0.01]
  const %zo = tensor<int8[]> [-128]
  %xq = onnx.QuantizeLinear(%x, %s, %z) name="x_q"
  %xr = onnx.DequantizeLinear(%xq, %s, %z) name="x_dq"
  %r = onnx.Relu(%xr) name="relu"
  %rq = onnx.QuantizeLinear(%r, %so, %zo) name="y_q"
  %y: float32[N,3,H,W] = onnx.DequantizeLinear(%rq, %so, %zo) name="y_dq"
  return %y
}
}`);

describe('compare --input-shape against a .tflite with int8 inputs', () => {
  it('the float feed is still quantized with the input’s parameters: agree, with the note; so with --inputs too', async () => {
    const onnxPath = join(temp, 'relu.onnx');
    writeFileSync(onnxPath, encodeOnnx(model));
    const tflitePath = join(temp, 'relu.tflite');
    const shape = ['--input-shape', 'x=1,3,6,10'];
    const converted = await runCli(['convert', onnxPath, '-o', tflitePath, ...shape, '-p', 'legalize-tflite{io-type=int8 full-integer=true}']);
    expect(converted.code, converted.stderr).toBe(0);
    const compared = await runCli(['compare', onnxPath, tflitePath, ...shape, '--atol', '0.011', '--json']);
    expect(compared.code, compared.stderr).toBe(0);
    expect(JSON.parse(compared.stdout).verdict).toBe('agree');
    expect(compared.stderr).toMatch(/input 'x' quantized to int8 \(scale 0\.0199\d*, zero point 0\) for the second model/);
    const inputs = join(temp, 'inputs');
    mkdirSync(inputs);
    writeNpy(Tensor.fromValues('float32', [1, 3, 6, 10], Array.from({ length: 180 }, (_, i) => ((i * 37) % 101) / 40 - 1.2)), join(inputs, 'x.npy'));
    const fromFiles = await runCli(['compare', onnxPath, tflitePath, ...shape, '--inputs', inputs, '--atol', '0.011', '--json']);
    expect(fromFiles.code, fromFiles.stderr).toBe(0);
    expect(JSON.parse(fromFiles.stdout).verdict).toBe('agree');
  });
});
