/**
 * `modelpass replay` on a reproducer whose pipeline.txt sets pass options naming files: the real passes declare
 * them (quantize-static report= writes, dataset= reads), so a reproducer from someone else cannot write or read
 * wherever its author chose without --allow-files (QA s20 H: replay wrote quantize-static's report outside the folder).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const work = mkdtempSync(join(tmpdir(), 'modelpass-replay-files-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const mlp = join(repoRoot, 'fixtures/models/fashion-mlp/model.onnx');

describe('modelpass replay and pass options that name files', () => {
  it('lists them and runs nothing without --allow-files; with it the pipeline runs', async () => {
    const reproducer = join(work, 'repro');
    const victim = join(work, 'elsewhere');
    mkdirSync(reproducer);
    mkdirSync(victim);
    const report = join(victim, 'report.json');
    expect((await runCli(['convert', mlp, '-o', join(reproducer, 'input.mpir')])).code).toBe(0);
    writeFileSync(join(reproducer, 'pipeline.txt'), `quantize-static{report=${JSON.stringify(report)} dataset="npy:${victim}"}\n`);

    const refused = await runCli(['replay', reproducer]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`note: quantize-static report=${JSON.stringify(report)} (writes)`);
    expect(refused.stderr).toContain(`note: quantize-static dataset=${JSON.stringify(`npy:${victim}`)} (reads)`);
    expect(refused.stderr).toContain('--allow-files');
    expect(existsSync(report)).toBe(false);

    writeFileSync(join(reproducer, 'pipeline.txt'), `quantize-static{report=${JSON.stringify(report)}}\n`);
    const allowed = await runCli(['replay', reproducer, '--allow-files']);
    expect(allowed.stderr).toBe('');
    expect(allowed.code).toBe(0);
    expect(existsSync(report)).toBe(true);
  }, 60_000);
});
