/**
 * `eval` on samples holding NaN (QA s12): the float model's NaN logits were argmaxed to class 0 and an
 * all-NaN dataset scored 40% silently; an int8 model (NaN quantized to a finite code) likewise. Now NaN
 * logits are counted wrong and both cases are warned about on stderr; --json carries the counts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-eval-nan-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');

describe('eval on samples holding NaN', () => {
  it('counts NaN logits wrong and warns, naming the dataset', async () => {
    // 10 samples, 4 of them NaN everywhere, all labelled 0
    const script =
      "import sys, numpy as np; x = np.zeros((10, 28, 28), np.float32); x[:4] = np.nan; " +
      "np.save(sys.argv[1] + '/x.npy', x); np.save(sys.argv[1] + '/y.npy', np.zeros((10,), np.int64))";
    execFileSync('/usr/bin/python3', ['-c', script, temp], { stdio: 'ignore', timeout: 60_000 });
    const result = await runCli(['eval', cnn, '--dataset', `npy:${temp}`, '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { correct: number; nanRows: number; nonFiniteSamples: number };
    expect(report.nonFiniteSamples).toBe(4);
    expect(report.nanRows).toBe(4);
    expect(report.correct).toBeLessThanOrEqual(6);
    expect(result.stderr).toContain(`4 of 10 samples of 'npy:${temp}' hold NaN or ±Infinity values`);
    expect(result.stderr).toContain('4 of 10 samples gave NaN logits (no prediction; counted wrong)');
  });
});
