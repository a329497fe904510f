import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * ONNX Runtime 1.30 (Linux) starts a telemetry client that leaves `mat-debug-<pid>.log` and `.ses` in
 * the temp folder of every process that opens a session. The runtime sets ORT_DISABLE_TELEMETRY=1
 * before loading ONNX Runtime unless the user chose a value. Checked in child processes, each with
 * its own TMPDIR, running the built package (the environment variable must be set before ORT loads).
 */
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const model = join(repoRoot, 'fixtures/models/fashion-mlp/model.onnx');
const folders: string[] = [];
afterAll(() => folders.forEach((folder) => rmSync(folder, { recursive: true, force: true })));

const SCRIPT = `
import { Tensor } from '@modelpass/ir';
import { runOrt, disposeSharedOrtRunner } from '@modelpass/runtime';
const outputs = await runOrt(process.argv[1], { input: Tensor.fromValues('float32', [1, 784], new Float32Array(784)) });
await disposeSharedOrtRunner();
process.stdout.write(JSON.stringify({ outputs: [...outputs.keys()], telemetry: process.env.ORT_DISABLE_TELEMETRY ?? null }));
`;

function runInFreshTemp(telemetrySetting: string | undefined): { files: string[]; stdout: string; stderr: string; status: number | null } {
  const temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-ort-telemetry-')));
  folders.push(temp);
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: temp };
  delete env.ORT_DISABLE_TELEMETRY;
  // ONNX Runtime writes no telemetry files when CI is set (as .ci/run does): the children run as on
  // a user's machine, so the control below shows the files really appear without the switch.
  delete env.CI;
  if (telemetrySetting !== undefined) env.ORT_DISABLE_TELEMETRY = telemetrySetting;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', SCRIPT, model], { cwd: repoRoot, env, encoding: 'utf8', timeout: 60_000 });
  return { files: readdirSync(temp).sort(), stdout: result.stdout, stderr: result.stderr, status: result.status };
}

describe('ONNX Runtime telemetry', () => {
  it('leaves nothing in the temp folder: the runtime sets ORT_DISABLE_TELEMETRY=1 before loading ONNX Runtime', () => {
    const run = runInFreshTemp(undefined);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ outputs: ['logits'], telemetry: '1' });
    expect(run.files).toEqual([]);
  });

  it("keeps a value the user chose (here 0: telemetry on, and ORT's files appear, so the check above can fail)", () => {
    const run = runInFreshTemp('0');
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).telemetry).toBe('0');
    expect(run.files.some((file) => /^mat-debug-\d+\.log$/.test(file))).toBe(true);
  });
});
