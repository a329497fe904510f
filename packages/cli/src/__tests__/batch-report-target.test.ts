/**
 * `modelpass batch --report FILE` into a missing folder or onto a folder: refused before any model
 * is converted, as `convert --report` does (it used to create the missing folder silently, and a
 * folder in the report's place failed only after every model had been converted).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');

describe('modelpass batch --report target', () => {
  it('refuses a report in a missing folder before converting, naming the folder, and creates nothing', async () => {
    const work = mkdtempSync(join(tmpdir(), 'batch-report-'));
    const out = join(work, 'out');
    mkdirSync(out);
    const report = join(work, 'missing', 'batch.json');
    const result = await runCli(['batch', '--pipeline', 'simplify', cnn, '-o', out, '--report', report], work);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`its folder '${join(work, 'missing')}' does not exist`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(work, 'missing'))).toBe(false);
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses a report path that is a folder before converting', async () => {
    const work = mkdtempSync(join(tmpdir(), 'batch-report-'));
    const out = join(work, 'out');
    mkdirSync(out);
    mkdirSync(join(work, 'report.json'));
    const result = await runCli(['batch', '--pipeline', 'simplify', cnn, '-o', out, '--report', 'report.json'], work);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot write report file '.*report\.json': it is a folder/);
    expect(readdirSync(out)).toEqual([]);
  });
});
