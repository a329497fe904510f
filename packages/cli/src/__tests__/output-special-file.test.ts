/**
 * QA s16 round 12: `convert m.onnx -o /dev/null --to onnx` (as root) exited 0 and left /dev/null a regular file
 * holding the model: outputs are written to a temporary file renamed into place, and the rename replaced the device.
 * An output or report path that exists and is not a regular file (device, FIFO, socket) is now refused before any
 * work, naming it. The test uses a FIFO in a temporary folder (never a real device).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

let work: string;
let model: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'modelpass-output-special-'));
  model = join(work, 'cnn.onnx');
  copyFileSync(join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx'), model);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function fifo(name: string): string {
  const path = join(work, name);
  execFileSync('mkfifo', [path]);
  return path;
}

describe('an output path that is a FIFO or a device', () => {
  it('convert -o FIFO is refused (exit 1) and the FIFO stays a FIFO', async () => {
    const target = fifo('out.onnx');
    const result = await runCli(['convert', model, '-o', target]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stderr).toContain(`cannot write output '${target}': it is a FIFO (named pipe), not a regular file`);
    expect(statSync(target).isFIFO()).toBe(true);
  });

  it('--report FIFO is refused (exit 1 for inspect) and the FIFO stays a FIFO', async () => {
    const target = fifo('report.json');
    const result = await runCli(['inspect', model, '--report', target]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stderr).toContain(`cannot write report file '${target}': it is a FIFO (named pipe), not a regular file`);
    expect(statSync(target).isFIFO()).toBe(true);
  });
});
