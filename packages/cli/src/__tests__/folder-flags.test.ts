/**
 * `--dump-ir DIR` and `--reproducer DIR` name folders (created when missing). Naming an existing file there failed
 * only after the work, at the first write, with the system's "EEXIST: file already exists, mkdir" (QA s18 round 16:
 * `convert r.onnx -o out.onnx --dump-ir r.onnx`). Both are refused before the model is read, naming the flag.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-folder-flags-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const model = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');

describe('folder flags of convert', () => {
  it.each(['dump-ir', 'reproducer'])('--%s naming a file is refused before any work, the file untouched', async (flag) => {
    const file = join(temp, `${flag}.txt`);
    writeFileSync(file, 'keep me');
    const output = join(temp, `${flag}.out.onnx`);
    const result = await runCli(['convert', model, '-o', output, '-p', 'simplify', `--${flag}`, file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`--${flag} '${file}' is a file, not a folder`);
    expect(result.stderr).not.toContain('EEXIST');
    expect(existsSync(output)).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('--dump-ir naming a missing folder creates it and dumps into it', async () => {
    const folder = join(temp, 'dumps');
    const result = await runCli(['convert', model, '-o', join(temp, 'dumped.onnx'), '-p', 'simplify', '--dump-ir', folder]);
    expect(result.code).toBe(0);
    expect(existsSync(join(folder, '001-simplify.mpir'))).toBe(true);
  });
});
