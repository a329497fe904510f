/**
 * `convert --bind NAME=VALUE` fixes a non-tensor forward argument of a TorchScript module (int, float,
 * bool, str); an unbound one keeps its default with a note. Checked against torch running the module
 * with the same values.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy, runOrt } from '@modelpass/runtime';
import { repoRoot, runCli } from './run-cli.js';

const PYTHON = '/usr/bin/python3';
const temp = mkdtempSync(join(tmpdir(), 'modelpass-bind-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const archive = join(temp, 'topk.pt');

beforeAll(() => {
  const script = `
import sys, numpy as np, torch
class TopK(torch.nn.Module):
    def forward(self, x, k: int = 2, scale: float = 0.5, positive: bool = True):
        y = x.topk(k, dim=1)[0] * scale
        if positive:
            y = torch.relu(y)
        return y
m = torch.jit.script(TopK())
m.save(sys.argv[1] + '/topk.pt')
x = torch.from_numpy(np.random.default_rng(1).standard_normal((2, 5, 3)).astype(np.float32))
np.save(sys.argv[1] + '/x.npy', x.numpy())
with torch.no_grad():
    np.save(sys.argv[1] + '/k3.npy', m(x, 3, 2.0, False).numpy())
`;
  writeFileSync(join(temp, 'make.py'), script);
  execFileSync(PYTHON, [join(temp, 'make.py'), temp], { stdio: 'ignore', timeout: 120_000 });
}, 120_000);

describe('convert --bind', () => {
  it('fixes int, float and bool arguments at the given values; the result equals torch with those values', async () => {
    const output = join(temp, 'k3.onnx');
    const result = await runCli(['convert', archive, '-o', output, '--input-shape', 'x=2,5,3', '--bind', 'k=3', '--bind', 'scale=2', '--bind', 'positive=false'], temp);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('is fixed at its default');
    const [got] = [...(await runOrt(output, { x: readNpy(join(temp, 'x.npy')) })).values()];
    const want = readNpy(join(temp, 'k3.npy'));
    expect(got!.shape).toEqual([2, 3, 3]);
    const a = got!.toNumbers();
    const b = want.toNumbers();
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!)))).toBeLessThan(1e-6);
  });

  it('without --bind, each argument keeps its default and a note says so', async () => {
    const result = await runCli(['convert', archive, '-o', join(temp, 'defaults.onnx'), '--input-shape', 'x=2,5,3'], temp);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("modelpass: note: forward argument 'k' (int) is fixed at its default 2 in the converted graph; bind another value with --bind k=…");
  });

  it('refuses a value of the wrong type, a malformed binding and --bind on another format', async () => {
    const wrong = await runCli(['convert', archive, '-o', join(temp, 'wrong.onnx'), '--input-shape', 'x=2,5,3', '--bind', 'k=1.5'], temp);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/forward argument 'k' is typed int; the value bound to it \(1.5\) is not one/);
    expect(existsSync(join(temp, 'wrong.onnx'))).toBe(false);
    const malformed = await runCli(['convert', archive, '-o', join(temp, 'm.onnx'), '--bind', 'k'], temp);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain("--bind takes NAME=VALUE (e.g. k=3), got 'k'");
    const onnx = await runCli(['convert', join(repoRoot, 'fixtures/models/fashion-mlp/model.onnx'), '-o', join(temp, 'o.onnx'), '--bind', 'k=3'], temp);
    expect(onnx.code).toBe(2);
    expect(onnx.stderr).toMatch(/--bind fixes TorchScript forward arguments; '.*model\.onnx' is onnx/);
  });
});
