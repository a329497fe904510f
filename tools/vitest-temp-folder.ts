/**
 * vitest globalSetup shared by every package (see vitest.shared.ts): the test run gets its own temp
 * folder (TMPDIR, which os.tmpdir() reads, inherited by the test workers and every process they
 * spawn), removed when the run ends. Whatever a test or a child process leaves in the temp folder
 * (a crash reproducer, a killed child's scratch file, a native library's log) goes with it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const previous = process.env['TMPDIR'];
  const folder = mkdtempSync(join(tmpdir(), 'modelpass-test-run-'));
  process.env['TMPDIR'] = folder;
  return () => {
    if (previous === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = previous;
    rmSync(folder, { recursive: true, force: true });
  };
}
