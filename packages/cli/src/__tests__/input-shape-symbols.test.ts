/**
 * `--input-shape` replacing a symbolic dim (H → 32) replaces it wherever the model names it: a
 * dynamic-size segmentation net kept its output declared [batch, 4, H, W] after the input became
 * [1, 3, 32, 48] (QA s8), a shape that names dims no input has any more.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-input-shape-symbols-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function segmentation(): string {
  const b = new GraphBuilder();
  const x = b.input('input', tensorType('float32', ['batch', 3, 'H', 'W']));
  const weights = Tensor.fromValues('float32', [4, 3, 1, 1], Array.from({ length: 12 }, (_, i) => (i - 6) / 10));
  const y = b.op1('onnx.Conv', [x, b.constant(weights, 'w')], { kernel_shape: attrs.ints([1, 1]) }, { outputs: ['logits'], types: [tensorType('float32', ['batch', 4, 'H', 'W'])] });
  b.output(y);
  const path = join(temp, 'seg.onnx');
  writeOnnx(b.model({ onnx: 13 }), path);
  return path;
}

describe('convert --input-shape and symbolic dims', () => {
  it('says the new sizes in the declared outputs too, and keeps a symbol an input still has', async () => {
    const model = segmentation();
    const fixed = join(temp, 'fixed.onnx');
    const run = await runCli(['convert', model, '-o', fixed, '--input-shape', 'input=1,3,32,48']);
    expect(run.code, run.stderr).toBe(0);
    const inspected = JSON.parse((await runCli(['inspect', fixed, '--json'])).stdout) as { inputs: { shape: unknown[] }[]; outputs: { shape: unknown[] }[] };
    expect(inspected.inputs[0]!.shape).toEqual([1, 3, 32, 48]);
    expect(inspected.outputs[0]!.shape).toEqual([1, 4, 32, 48]);

    const sizedOnly = join(temp, 'sized.onnx');
    expect((await runCli(['convert', model, '-o', sizedOnly, '--input-shape', 'input=batch,3,32,48'])).code).toBe(0);
    const kept = JSON.parse((await runCli(['inspect', sizedOnly, '--json'])).stdout) as { outputs: { shape: unknown[] }[] };
    expect(kept.outputs[0]!.shape).toEqual(['batch', 4, 32, 48]);
    const compared = await runCli(['compare', model, sizedOnly, '--dim', 'batch=2', '--input-shape', 'input=batch,3,32,48']);
    expect(compared.stdout).toMatch(/verdict: agree/);
  });
});
