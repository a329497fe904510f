/**
 * Ctrl-C during `convert -p 'train{…}'` used to end the process with 130 and no word: the pipeline had no
 * signal. Now the first SIGINT stops training at the next step, the CLI says what it did and how to resume,
 * exits 130 and writes no output; the rerun resumes from the last epoch's checkpoint.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { binPath, repoRoot, spawnCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-interrupt-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const mlp = join(repoRoot, 'fixtures/models/fashion-mlp/model.onnx');

/** Runs the CLI and sends SIGINT once stderr shows a progress line of epoch `epoch`. */
function interruptDuring(argv: string[], epoch: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...argv], { cwd: temp });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!sent && new RegExp(`train: epoch ${epoch}/\\d+ step`).test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('convert with train{…}, interrupted by SIGINT', () => {
  it('stops at the next step, says how to resume, exits 130, writes nothing; the rerun resumes', async () => {
    const output = join(temp, 'trained.onnx');
    const pipeline = `train{dataset=fashion-mnist:train samples=6000 epochs=2 batch=64 lr=0.01 checkpoint=${join(temp, 'ck')} threads=1 progress=on}`;
    const argv = ['convert', mlp, '-o', output, '-p', pipeline];
    const interrupted = await interruptDuring(argv, 2);
    expect(interrupted.code, interrupted.stderr).toBe(130);
    expect(interrupted.stderr).toContain('modelpass: interrupted: stopping at the next step or pass, nothing is written');
    expect(interrupted.stderr).toMatch(/training interrupted at step \d+ \(epoch 2\); rerun the same command to resume from the checkpoint in '.*ck' \(after epoch 1\)/);
    expect(interrupted.stderr).not.toMatch(/\n\s+at /);
    expect(interrupted.stderr).not.toContain('reproducer');
    expect(existsSync(output)).toBe(false);
    const rerun = spawnCli(argv, temp);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/resumed from '.*ck' after epoch 1/);
    expect(existsSync(output)).toBe(true);
  }, 180_000);
});
