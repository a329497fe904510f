/**
 * `eval` on a dataset with no samples printed "accuracy: 0.00% (0 / 0)" and exited 0; it is an
 * error now (exit 2) naming the dataset, as `--limit 0` already was.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-eval-empty-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');

describe('eval on an empty dataset', () => {
  it('is an error naming the dataset, not 0 / 0', async () => {
    const script = "import sys, numpy as np; np.save(sys.argv[1] + '/x.npy', np.zeros((0, 28, 28), np.uint8)); np.save(sys.argv[1] + '/y.npy', np.zeros((0,), np.int64))";
    execFileSync('/usr/bin/python3', ['-c', script, temp], { stdio: 'ignore', timeout: 60_000 });
    const result = await runCli(['eval', cnn, '--dataset', `npy:${temp}`, '--min-accuracy', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`dataset 'npy:${temp}' has no samples`);
    expect(result.stdout).toBe('');
  });
});
