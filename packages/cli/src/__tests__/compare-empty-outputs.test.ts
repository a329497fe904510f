/**
 * QA s16 round 12: `compare a.onnx b.onnx --dim N=0` (or `--input-shape x=0,8`) ran both models on empty inputs,
 * compared no element and said "agree" with exit 0, whatever the weights. --dim now takes a positive size (as diff's
 * and --check-dim do), and outputs that are all empty stop compare with an error (exit 2) instead of a verdict.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-compare-empty-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** logits[N, 5] = x[N, 8] · W, W's entries `sign`·sin(…): the two signs give models that disagree on any real input. */
function linear(name: string, sign: 1 | -1): string {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', ['N', 8]));
  const w = Tensor.fromValues('float32', [8, 5], Array.from({ length: 40 }, (_, i) => sign * Math.sin(i * 1.3 + 0.2)));
  g.output(g.op1('onnx.MatMul', [x, g.constant(w, 'w')], {}, { name: 'logits' }));
  const path = join(temp, name);
  writeFileSync(path, encodeOnnx(g.model({ onnx: 17 })));
  return path;
}

describe('compare: no element compared is no verdict', () => {
  const a = linear('a.onnx', 1);
  const b = linear('b.onnx', -1);

  it('the two models disagree on a real batch (exit 1)', async () => {
    const result = await runCli(['compare', a, b, '--dim', 'N=2']);
    expect(result.code, result.stdout + result.stderr).toBe(1);
  });

  it('--dim N=0 is a usage error (exit 2), not an empty "agree"', async () => {
    const result = await runCli(['compare', a, b, '--dim', 'N=0']);
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toContain("--dim takes NAME=SIZE with a positive size (e.g. --dim N=1), got 'N=0'");
    expect(result.stdout).not.toContain('agree');
  });

  it('an --input-shape with a size-0 dimension stops with an error naming the empty outputs (exit 2)', async () => {
    const result = await runCli(['compare', a, b, '--input-shape', 'x=0,8']);
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toMatch(/compare compared nothing: every output is empty \(logits\S* \[0,5\]\)/);
    expect(result.stderr).toContain('hint: give every input dimension a positive size');
    expect(result.stdout).not.toContain('agree');
  });
});
