import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { binPath, repoRoot } from './run-cli.js';

// A read-only folder as the output: refused before the pipeline runs (a train{…} pipeline used to
// train to the end and then fail to write). A read-only tmpfs in a user namespace makes it read-only
// for root too; skipped only where the kernel refuses unprivileged user namespaces.
const work = mkdtempSync(join(tmpdir(), 'modelpass-cli-readonly-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
const canMount = spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o ro,size=64k tmpfs "${tmpdir()}"`]).status === 0;

function runInReadOnlyFolder(folder: string, args: string[]) {
  mkdirSync(folder);
  const script = 'mount -t tmpfs -o ro,size=64k tmpfs "$1" && shift && "$@"';
  return spawnSync('unshare', ['-rm', 'sh', '-c', script, 'sh', folder, process.execPath, binPath, ...args], { encoding: 'utf8', timeout: 120_000 });
}

describe.skipIf(!canMount)('an output folder that cannot be written', () => {
  it('convert -o refuses it before any pass runs, naming output and folder', () => {
    const folder = join(work, 'ro-output');
    const started = Date.now();
    const result = runInReadOnlyFolder(folder, ['convert', cnn, '-o', join(folder, 'out.onnx'), '-p', 'train{dataset=fashion-mnist:train epochs=1 samples=2000}', '--statistics']);
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toContain(`cannot write output '${join(folder, 'out.onnx')}': its folder '${folder}' is not writable: the file system is read-only (EROFS)`);
    expect(result.stderr).not.toMatch(/\n\s+at |train: epoch|samples-seen|steps/);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('compare --report into it is refused before the models run', () => {
    const folder = join(work, 'ro-report');
    const result = runInReadOnlyFolder(folder, ['compare', cnn, cnn, '--report', join(folder, 'r.json')]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain(`cannot write report file '${join(folder, 'r.json')}': its folder '${folder}' is not writable`);
    expect(existsSync(join(folder, 'r.json'))).toBe(false);
  });
});
