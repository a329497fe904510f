/**
 * `modelpass compare` of a .pt with `--inputs DIR` (QA s9, silero VAD): torch takes `forward`'s
 * arguments by position, so the feeds must follow the model's inputs, not the folder's file order
 * (`sr.npy, state.npy, x.npy`), and an archive's input dtypes come from the files (an int64 `sr`),
 * whichever side of the comparison the .pt is on.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { binPath, spawnCli } from './run-cli.js';

let work: string;
beforeAll(() => {
  expect(existsSync(binPath), `${binPath} is missing: build the CLI first (npx nx run @modelpass/cli:build)`).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'modelpass-compare-torch-inputs-'));
  const script = join(work, 'make.py');
  writeFileSync(
    script,
    `import sys, numpy as np, torch
class M(torch.nn.Module):
    def forward(self, x, state, sr):
        return x * 2.0 + state.sum() * 0.5 + sr.to(torch.float32) / 16000.0
out = sys.argv[1]
m = M().eval()
x, state, sr = torch.randn(1, 4), torch.randn(2, 3), torch.tensor(8000, dtype=torch.int64)
torch.onnx.export(m, (x, state, sr), out + "/m.onnx", input_names=["x", "state", "sr"], output_names=["y"], opset_version=13)
torch.jit.save(torch.jit.script(m), out + "/m.pt")
np.save(out + "/in/x.npy", x.numpy()); np.save(out + "/in/state.npy", state.numpy()); np.save(out + "/in/sr.npy", sr.numpy())
`,
  );
  mkdirSync(join(work, 'in'));
  execFileSync('/usr/bin/python3', [script, work], { stdio: ['ignore', 'ignore', 'inherit'] });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

it.each([
  ['m.onnx', 'm.pt'],
  ['m.pt', 'm.onnx'],
])('compare %s %s --inputs DIR feeds torch in forward order with the files’ dtypes, and agrees', (a, b) => {
  const result = spawnCli(['compare', join(work, a), join(work, b), '--inputs', join(work, 'in'), '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toMatchObject({ verdict: 'agree' });
}, 120_000);

it('compare m.onnx m.pt --engine ort pairs the outputs by position (an archive records no output names)', () => {
  const result = spawnCli(['compare', join(work, 'm.onnx'), join(work, 'm.pt'), '--engine', 'ort', '--inputs', join(work, 'in'), '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toMatchObject({ verdict: 'agree', engines: ['ort', 'ort'] });
}, 120_000);
