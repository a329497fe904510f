/**
 * QA s16: `modelpass compare` hung for good in ONNX Runtime on a Loop of 1e12 iterations (its run blocks the
 * process and cannot be interrupted). `--run-time-limit` (default 300 s a run) now stops the process with a
 * message naming the engine, the model and the flag; a model that finishes in time runs as before.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { parseModel } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { binPath, spawnCli } from './run-cli.js';

const temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-run-time-limit-')));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** y = x + trips, by a Loop of `trips` iterations whose condition stays true. */
function loopModel(file: string, trips: number): string {
  const path = join(temp, file);
  writeOnnx(
    parseModel(`model ir_version=8 opsets{onnx=17} {
graph @loop(%x: float32[1]) {
  const %M = tensor<int64[]> [${trips}]
  const %cond = tensor<bool[]> [true]
  %y: float32[1] = onnx.Loop(%M, %cond, %x) {body=graph @body(%iter: int64[], %cond_in: bool[], %acc_in: float32[1]) {
    const %one = tensor<float32[1]> [1]
    %cond_out: bool[] = onnx.Identity(%cond_in)
    %acc_out: float32[1] = onnx.Add(%acc_in, %one)
    return %cond_out, %acc_out
  }}
  return %y
}
}`),
    path,
  );
  return path;
}

describe('compare --run-time-limit', () => {
  it('stops a run that never ends, naming ONNX Runtime, the model and the flag (exit status 137)', () => {
    const endless = loopModel('endless.onnx', 1e12);
    const started = Date.now();
    const run = spawnSync(process.execPath, [binPath, 'compare', endless, loopModel('endless-b.onnx', 1e12), '--run-time-limit', '1'], { cwd: temp, encoding: 'utf8', timeout: 60_000 });
    expect(run.signal, run.stderr).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(run.stderr).toContain(`modelpass: error: ONNX Runtime, running model ${endless}, did not finish one run within the run time limit of 1 s, so the process was stopped`);
    expect(run.stderr).toContain('hint: raise the limit with --run-time-limit <seconds> (now 1), or 0 for none');
  });

  it('stops the reference interpreter likewise (--engine reference)', () => {
    const endless = loopModel('endless-reference.onnx', 1e12);
    const run = spawnSync(process.execPath, [binPath, 'compare', endless, endless, '--engine', 'reference', '--run-time-limit', '1'], { cwd: temp, encoding: 'utf8', timeout: 60_000 });
    expect(run.signal, run.stderr).toBe('SIGKILL');
    expect(run.stderr).toContain(`modelpass: error: the reference interpreter, running model ${endless}, did not finish one run within the run time limit of 1 s`);
  });

  it('lets a run that ends in time finish, and refuses a limit that is no number of seconds', () => {
    const short = loopModel('short.onnx', 10);
    const run = spawnCli(['compare', short, short, '--run-time-limit', '30'], temp);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('verdict: agree');
    const bad = spawnCli(['compare', short, short, '--run-time-limit', '-1'], temp);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--run-time-limit takes a number of seconds >= 0 (0: no limit), got '-1'");
  });
});
