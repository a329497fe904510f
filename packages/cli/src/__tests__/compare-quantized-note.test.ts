/**
 * QA s11: `compare` of a float model against its int8 version says DISAGREE under the default
 * tolerance (made for float conversions) with no word on why; it now adds a note that the model is
 * quantized and how to judge it. Float-only disagreements get no such note.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { afterAll, describe, expect, it } from 'vitest';
import { isQuantizedModel } from '../quantized-note.js';
import { runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-compare-quantized-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** y = x · W, with W either float or stored int8 behind a DequantizeLinear. */
function linear(name: string, form: 'float' | 'int8' | 'float-off') {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', [2, 8]));
  const values = Array.from({ length: 32 }, (_, i) => Math.round(Math.sin(i * 1.7) * 100) / 100);
  let w;
  if (form === 'int8') {
    const q = Tensor.fromValues('int8', [8, 4], values.map((v) => Math.round(v / 0.013)));
    w = g.op1('onnx.DequantizeLinear', [g.constant(q, 'wq'), g.constant(Tensor.fromValues('float32', [], [0.013]), 'ws')], {}, { name: 'dq' });
  } else {
    w = g.constant(Tensor.fromValues('float32', [8, 4], form === 'float-off' ? values.map((v) => v + 0.01) : values), 'w');
  }
  g.output(g.op1('onnx.MatMul', [x, w], {}, { name: 'y' }));
  const model = g.model({ onnx: 13 });
  const path = join(temp, name);
  writeFileSync(path, encodeOnnx(model));
  return { path, model };
}

describe('compare: a quantized model that disagrees', () => {
  const float = linear('float.onnx', 'float');
  const int8 = linear('int8.onnx', 'int8');
  const off = linear('off.onnx', 'float-off');

  it('recognises quantized models', () => {
    expect(isQuantizedModel(int8.model)).toBe(true);
    expect(isQuantizedModel(float.model)).toBe(false);
  });

  it('notes that the int8 side is quantized and how to judge it', async () => {
    const result = await runCli(['compare', float.path, int8.path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`note: '${int8.path}' is quantized`);
    expect(result.stderr).toMatch(/cosine and top-1 agreement above, by accuracy \(modelpass eval\), or with --atol\/--rtol/);
  });

  it('says nothing of quantization when float models disagree', async () => {
    const result = await runCli(['compare', float.path, off.path]);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain('quantized');
  });
});
