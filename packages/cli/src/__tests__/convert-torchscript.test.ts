import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '@modelpass/ir';
import { readNpy, runOrt } from '@modelpass/runtime';
import { repoRoot, runCli } from './run-cli.js';

const PYTHON = '/usr/bin/python3';
const temp = mkdtempSync(join(tmpdir(), 'modelpass-convert-torchscript-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

beforeAll(() => {
  // Debian torch makes the archives (tools/setup.sh installs python3-torch).
  execFileSync(PYTHON, [join(repoRoot, 'tools/fixtures/make_torchscript.py'), '--out', temp, '--onnx', 'fashion_cnn'], { stdio: 'ignore', timeout: 300_000 });
  execFileSync(PYTHON, [join(repoRoot, 'packages/torchscript/src/__tests__/torch/make-small-archives.py'), temp], { stdio: 'ignore', timeout: 120_000 });
}, 300_000);

function worstDifference(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.toNumbers();
  const y = b.toNumbers();
  return x.reduce((worst, value, i) => Math.max(worst, Math.abs(value - y[i]!)), 0);
}

function torchOutput(archive: string, input: string): Tensor {
  const out = join(temp, 'torch-out.npy');
  const script = 'import sys, numpy as np, torch\nm = torch.jit.load(sys.argv[1])\nwith torch.no_grad(): np.save(sys.argv[3], m(torch.from_numpy(np.load(sys.argv[2]))).numpy())';
  execFileSync(PYTHON, ['-c', script, archive, input, out], { stdio: 'ignore', timeout: 120_000 });
  return readNpy(out);
}

describe('modelpass convert with TorchScript (.pt)', () => {
  const input = () => join(temp, 'fashion_cnn.input.npy');

  it.each(['scripted', 'traced'])('converts a %s archive to ONNX that ORT runs within 1e-4 of torch', async (mode) => {
    const output = join(temp, `cnn.${mode}.onnx`);
    const result = await runCli(['convert', join(temp, `fashion_cnn.${mode}.pt`), '-o', output]);
    expect(result.code, result.stderr).toBe(0);
    const [actual] = [...(await runOrt(output, { x: readNpy(input()) })).values()];
    expect(worstDifference(actual!, readNpy(join(temp, `fashion_cnn.${mode}.expected.npy`)))).toBeLessThan(1e-4);
  }, 60_000);

  it('converts ONNX (torch.onnx.export) to a .pt that torch.jit.load runs within 1e-4', async () => {
    const output = join(temp, 'cnn-from-onnx.pt');
    const result = await runCli(['convert', join(temp, 'fashion_cnn.onnx'), '-o', output]);
    expect(result.code, result.stderr).toBe(0);
    expect(worstDifference(torchOutput(output, input()), readNpy(join(temp, 'fashion_cnn.scripted.expected.npy')))).toBeLessThan(1e-4);
  }, 60_000);

  it('refuses to write ONNX for an op with no lowering: exit 1, the op and its TorchScript location, no file', async () => {
    const output = join(temp, 'cumsum.onnx');
    const result = await runCli(['convert', join(temp, 'cumsum.pt'), '-o', output]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/aten\.cumsum \(node 'cumsum' at .*cumsum\.pt:code\/__torch__\.py:\d+:\d+\)/);
    expect(existsSync(output)).toBe(false);
  }, 60_000);

  it('refuses a branch on tensor data with exit 1 and the location of the if', async () => {
    const result = await runCli(['convert', join(temp, 'data_if.pt'), '-o', join(temp, 'data_if.onnx')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/data_if\.pt:code\/__torch__\.py:\d+:\d+: an 'if' whose condition depends on tensor data/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
