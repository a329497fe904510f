/**
 * `eval` takes `--input-shape NAME=DIMS` as convert, compare and inspect do (QA finding s5 #11: it was
 * "unknown option", and only `--sample-shape` worked). A TorchScript archive must score with `--input-shape` exactly what it scores with `--sample-shape`, and what its
 * ONNX export scores; the flag's name, rank and fixed dims are checked against ONNX files too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-eval-input-shape-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
const evalArgs = ['--dataset', 'fashion-mnist:test', '--limit', '300', '--json'];
const score = (stdout: string) => JSON.parse(stdout) as { correct: number; total: number; batchSize: number; sampleShape: number[] };

describe('eval --input-shape', () => {
  it('sizes the samples of a TorchScript archive as --sample-shape does (and as the shapes modelpass recorded in it)', async () => {
    const archive = join(temp, 'cnn.pt');
    const written = await runCli(['convert', cnn, '-o', archive]);
    expect(written.code, written.stderr).toBe(0);
    // An archive torch wrote records no input shape (convert-torchscript.test.ts: eval asks for one, exit 2); one that
    // modelpass wrote records its inputs' shapes (QA s19: eval of an .onnx → .pt archive was refused).
    const recorded = await runCli(['eval', archive, ...evalArgs]);
    const bySample = await runCli(['eval', archive, ...evalArgs, '--sample-shape', '1,28,28']);
    const byInput = await runCli(['eval', archive, ...evalArgs, '--input-shape', 'input=batch,1,28,28']);
    const onnx = await runCli(['eval', cnn, ...evalArgs]);
    for (const run of [recorded, bySample, byInput, onnx]) expect(run.code, run.stderr).toBe(0);
    const [a, b, c, d] = [score(bySample.stdout), score(byInput.stdout), score(onnx.stdout), score(recorded.stdout)];
    expect(c.correct).toBeGreaterThan(240); // the trained CNN, not noise
    expect(b.sampleShape).toEqual([1, 28, 28]);
    expect(d.sampleShape).toEqual([1, 28, 28]);
    expect(b.correct).toBe(a.correct);
    expect(b.correct).toBe(c.correct);
    expect(d.correct).toBe(c.correct);
  }, 180_000);

  it('takes a numeric batch dim as the batch size, and checks the flag against an ONNX file', async () => {
    const batched = await runCli(['eval', cnn, ...evalArgs, '--input-shape', 'input=50,1,28,28']);
    expect(batched.code, batched.stderr).toBe(0);
    expect(score(batched.stdout).batchSize).toBe(50);
    expect(score(batched.stdout).total).toBe(300);

    const wrongName = await runCli(['eval', cnn, ...evalArgs, '--input-shape', 'image=batch,1,28,28']);
    expect(wrongName.code).toBe(2);
    expect(wrongName.stderr).toContain("--input-shape image: the model has no input 'image' (its inputs: input)");
    const wrongDim = await runCli(['eval', cnn, ...evalArgs, '--input-shape', 'input=batch,3,28,28']);
    expect(wrongDim.code).toBe(2);
    expect(wrongDim.stderr).toContain('dim 1 is declared 1');
    for (const run of [wrongName, wrongDim]) expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);

  it('refuses both spellings at once and symbolic sample dims, as usage errors', async () => {
    const both = await runCli(['eval', cnn, ...evalArgs, '--input-shape', 'input=batch,1,28,28', '--sample-shape', '1,28,28']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('not both');
    const symbolic = await runCli(['eval', cnn, ...evalArgs, '--input-shape', 'input=batch,1,H,W']);
    expect(symbolic.code).toBe(2);
    expect(symbolic.stderr).toContain('eval needs every dim after the batch dim as a size');
    const malformed = await runCli(['eval', cnn, ...evalArgs, '--input-shape', '1,28,28']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain("--input-shape '1,28,28': expected NAME=DIMS");
  });
});
