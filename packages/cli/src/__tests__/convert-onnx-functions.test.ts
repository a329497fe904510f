/**
 * A torch export with model-local functions (`export_modules_as_functions=True`: Linear, LayerNorm, GELU
 * and a block of them become FunctionProtos called from a Net function) converts to .tflite and to .pt:
 * convert inlines the functions before legalize-tflite and before the TorchScript writer. The TFLite
 * runtime and torch.jit.load must agree with ONNX Runtime on the original file within 1e-4; an ONNX →
 * ONNX convert keeps the functions as they are (QA s13a R3).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, readNpy, runOrt, TfliteEngine } from '@modelpass/runtime';
import { runCli } from './run-cli.js';

const PYTHON = '/usr/bin/python3';
const temp = mkdtempSync(join(tmpdir(), 'modelpass-onnx-functions-'));
const source = join(temp, 'fn.onnx');
const inputPath = join(temp, 'x.npy');
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(temp, { recursive: true, force: true });
});

const MAKE = `
import sys, numpy as np, torch, torch.nn as nn
torch.manual_seed(0)
class Blk(nn.Module):
    def __init__(s):
        super().__init__(); s.fc = nn.Linear(16, 16); s.ln = nn.LayerNorm(16); s.act = nn.GELU()
    def forward(s, x): return x + s.act(s.ln(s.fc(x)))
class Net(nn.Module):
    def __init__(s):
        super().__init__(); s.b1 = Blk(); s.b2 = Blk(); s.head = nn.Linear(16, 4)
    def forward(s, x): return s.head(s.b2(s.b1(x)))
x = torch.randn(2, 16)
np.save(sys.argv[2], x.numpy())
torch.onnx.export(Net().eval(), x, sys.argv[1], opset_version=15, export_modules_as_functions=True, input_names=['x'], output_names=['y'])
`;

beforeAll(() => {
  execFileSync(PYTHON, ['-c', MAKE, source, inputPath], { stdio: 'ignore', timeout: 120_000 });
}, 130_000);

function worstDifference(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.toNumbers();
  const y = b.toNumbers();
  return x.reduce((worst, value, i) => Math.max(worst, Math.abs(value - y[i]!)), 0);
}

async function ortOnOriginal(): Promise<Tensor> {
  const [expected] = [...(await runOrt(source, { x: readNpy(inputPath) })).values()];
  return expected!;
}

describe('convert: ONNX with model-local functions', () => {
  it('the export does call functions (the reader keeps them)', () => {
    const model = readOnnx(source);
    expect(model.functions.map((fn) => fn.name).sort()).toEqual(['Blk', 'GELU', 'LayerNorm', 'Linear', 'Net']);
  });

  it('→ .tflite: the TFLite runtime agrees with ORT on the original within 1e-4', async () => {
    const output = join(temp, 'fn.tflite');
    const result = await runCli(['convert', source, '-o', output]);
    expect(result.code, result.stderr).toBe(0);
    const engine = new TfliteEngine();
    try {
      const [actual] = [...(await engine.run(output, { x: readNpy(inputPath) })).values()];
      expect(worstDifference(actual!, await ortOnOriginal())).toBeLessThanOrEqual(1e-4);
    } finally {
      await engine.dispose();
    }
  }, 60_000);

  it('→ .pt: torch.jit.load agrees with ORT on the original within 1e-4', async () => {
    const output = join(temp, 'fn.pt');
    const result = await runCli(['convert', source, '-o', output]);
    expect(result.code, result.stderr).toBe(0);
    const out = join(temp, 'torch-out.npy');
    const script = 'import sys, numpy as np, torch\nm = torch.jit.load(sys.argv[1])\nwith torch.no_grad(): np.save(sys.argv[3], m(torch.from_numpy(np.load(sys.argv[2]))).numpy())';
    execFileSync(PYTHON, ['-c', script, output, inputPath, out], { stdio: 'ignore', timeout: 120_000 });
    expect(worstDifference(readNpy(out), await ortOnOriginal())).toBeLessThanOrEqual(1e-4);
  }, 120_000);

  it('→ .onnx keeps the functions and their calls as they are', async () => {
    const output = join(temp, 'fn.copy.onnx');
    const result = await runCli(['convert', source, '-o', output]);
    expect(result.code, result.stderr).toBe(0);
    const model = readOnnx(output);
    expect(model.functions).toHaveLength(5);
    expect(model.graph.nodeList().map((node) => node.op)).toContain('__main__.Net');
  }, 60_000);
});
