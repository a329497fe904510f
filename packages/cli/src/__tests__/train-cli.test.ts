/**
 * `modelpass convert … --pipeline 'train{…}'` with the built binary: the MLP fixture fine-tuned on
 * 512 training images is written whole, reports its statistics, and `eval` still measures it well
 * above chance; a train pipeline without a dataset fails with the reason and no output file.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, spawnCli } from './run-cli.js';

const mlp = join(repoRoot, 'fixtures/models/fashion-mlp/model.onnx');
const work = mkdtempSync(join(tmpdir(), 'modelpass-train-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('modelpass convert with train', () => {
  it('fine-tunes and writes the model; eval measures it', () => {
    const out = join(work, 'tuned.onnx');
    const result = spawnCli(['convert', mlp, '-o', out, '--pipeline', 'train{dataset=fashion-mnist:train samples=512 batch=64 lr=0.01 seed=1}', '--statistics']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/\b8 steps\b/);
    expect(result.stderr).toMatch(/\b6 weights-trained\b/);
    const evaluated = spawnCli(['eval', out, '--dataset', 'fashion-mnist:test', '--limit', '1000', '--json']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect((JSON.parse(evaluated.stdout) as { accuracy: number }).accuracy).toBeGreaterThan(0.8);
  });

  it('refuses a train pipeline without a dataset and writes nothing', () => {
    const out = join(work, 'none.onnx');
    const result = spawnCli(['convert', mlp, '-o', out, '--pipeline', 'train{epochs=1}']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/train needs dataset=/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });
});
