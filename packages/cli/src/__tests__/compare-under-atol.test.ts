/**
 * QA s11 R2: torchvision's random-weight logits are ~1e-12, entirely under the default atol 1e-5,
 * so `compare` said "agree" for any output of that size, zeros included. Such an output is now
 * judged at its own scale (|a - b| <= 0.5·max|a| + rtol·|a|): a zeroed output disagrees, a
 * float32 rounding of the same output agrees, and the text and --json say which rule was used.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-compare-under-atol-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** logits = x · W, W scaled by `scale` (1e-12: every logit far under atol). */
function tinyLogits(name: string, scale: number, dtype: 'float32' | 'float64' = 'float32'): string {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType(dtype, [2, 8]));
  const w = Tensor.fromValues(dtype, [8, 5], Array.from({ length: 40 }, (_, i) => Math.sin(i * 1.3 + 0.2) * scale));
  g.output(g.op1('onnx.MatMul', [x, g.constant(w, 'w')], {}, { name: 'logits' }));
  const path = join(temp, name);
  writeFileSync(path, encodeOnnx(g.model({ onnx: 17 })));
  return path;
}

describe('compare: outputs entirely within atol', () => {
  const reference = tinyLogits('a.onnx', 1e-12);

  it('a zeroed output disagrees (exit 1), and the line says the output was judged at its own scale', async () => {
    const zeroed = await runCli(['compare', reference, tinyLogits('zero.onnx', 0)]);
    expect(zeroed.code, zeroed.stdout + zeroed.stderr).toBe(1);
    expect(zeroed.stdout).toMatch(/logits\S*: DISAGREE/);
    expect(zeroed.stdout).toContain('every |a| is within atol, so judged at its own scale');
    const doubled = await runCli(['compare', reference, tinyLogits('double.onnx', 2e-12)]);
    expect(doubled.code).toBe(1);
  });

  it('the same output rounded differently agrees, and --json marks underAtol with the atol used', async () => {
    const result = await runCli(['compare', reference, tinyLogits('rounded.onnx', 1e-12 * (1 + 1e-6)), '--json']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { verdict: string; perOutput: { underAtol: boolean; atol: number }[] };
    expect(report.verdict).toBe('agree');
    expect(report.perOutput[0]!.underAtol).toBe(true);
    expect(report.perOutput[0]!.atol).toBeGreaterThan(0);
    expect(report.perOutput[0]!.atol).toBeLessThan(1e-12); // half the output's largest |a|, far under the default 1e-5
  });
});
