/**
 * QA s16 round 12: `diff a.onnx b.onnx --inputs DIR` with DIR missing or holding no input files printed a note
 * ("intermediate tensors not compared: …"), diffed the structure only and exited 0 for two equal models — the
 * inputs the user named were never used and nothing said the check was incomplete. The folder is now read before
 * the comparison, and a folder that cannot be read is an error (exit 2), as in compare.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { writeNpy } from '@modelpass/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-diff-inputs-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function linear(): string {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', [2, 8]));
  const w = Tensor.fromValues('float32', [8, 5], Array.from({ length: 40 }, (_, i) => Math.sin(i * 1.3 + 0.2)));
  g.output(g.op1('onnx.MatMul', [x, g.constant(w, 'w')], {}, { name: 'logits' }));
  const path = join(temp, 'a.onnx');
  writeFileSync(path, encodeOnnx(g.model({ onnx: 17 })));
  return path;
}

describe('diff --inputs DIR', () => {
  const model = linear();

  it('a folder with the input runs the tensor comparison (exit 0 for the same model)', async () => {
    const folder = join(temp, 'good');
    mkdirSync(folder);
    writeNpy(Tensor.fromValues('float32', [2, 8], Array.from({ length: 16 }, (_, i) => i / 16)), join(folder, 'x.npy'));
    const result = await runCli(['diff', model, model, '--inputs', folder]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('intermediate tensors in both');
  });

  it('a folder that does not exist is an error naming it (exit 2)', async () => {
    const missing = join(temp, 'missing');
    const result = await runCli(['diff', model, model, '--inputs', missing]);
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toContain(`input path '${missing}' does not exist`);
    expect(result.stderr).not.toContain('intermediate tensors not compared');
  });

  it('an empty folder is an error saying what it should hold (exit 2)', async () => {
    const empty = join(temp, 'empty');
    mkdirSync(empty);
    const result = await runCli(['diff', model, model, '--inputs', empty]);
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toContain('holds no .npy or .pb files');
  });

  // s17 (note11 item 5): files that do not fit the model — checked against compare's exit code, not only diff's own.
  it.each([
    ['a wrong shape', 'x.npy', Tensor.fromValues('float32', [3, 7], Array.from({ length: 21 }, (_, i) => i)), "does not fit input 'x'"],
    ['a wrong dtype', 'x.npy', Tensor.fromValues('int32', [2, 8], Array.from({ length: 16 }, (_, i) => i)), 'wrong dtype'],
    ['a name that is no input', 'y.npy', Tensor.fromValues('float32', [2, 8], Array.from({ length: 16 }, (_, i) => i)), 'to a model input'],
  ])('a file of %s is an error (exit 2), as in compare', async (_what, file, tensor, message) => {
    const folder = mkdtempSync(join(temp, 'unfit-'));
    writeNpy(tensor, join(folder, file));
    const diff = await runCli(['diff', model, model, '--inputs', folder]);
    const compare = await runCli(['compare', model, model, '--inputs', folder]);
    expect(compare.code, compare.stdout + compare.stderr).toBe(2);
    expect(diff.code, diff.stdout + diff.stderr).toBe(compare.code);
    expect(diff.stderr).toContain(message);
    expect(diff.stderr).not.toContain('intermediate tensors not compared');
  });
});
