/**
 * A constant Mul then Add after a Conv or ConvTranspose (PP-LCNetV3's "learnable affine block": a
 * scalar Mul and a scalar Add after each Conv) folds into the conv's weights and bias under `fuse`
 * (so `optimize`). The model is made by torch 1.13 (`torch.onnx.export`); ONNX Runtime, with its
 * own fusions off, gives the same outputs before and after within 1e-5.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { fusePass } from '@modelpass/transforms';
import { randomTensor, runPass } from './helpers.js';

const PYTHON = '/usr/bin/python3';

/** Conv → ·s + t (scalars) → Relu → grouped ConvTranspose → ·s2 + t2 (per channel, [6,1,1] and [1,6,1,1]). */
const MAKE_MODEL = `
import sys, torch
torch.manual_seed(0)
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.s = torch.nn.Parameter(torch.tensor([1.7]))
        self.t = torch.nn.Parameter(torch.tensor([-0.3]))
        self.deconv = torch.nn.ConvTranspose2d(8, 6, 2, stride=2, groups=2)
        self.s2 = torch.nn.Parameter(torch.randn(6, 1, 1))
        self.t2 = torch.nn.Parameter(torch.randn(1, 6, 1, 1))
    def forward(self, x):
        y = torch.relu(self.conv(x) * self.s + self.t)
        return self.deconv(y) * self.s2 + self.t2
torch.onnx.export(M().eval(), torch.randn(1, 3, 6, 6), sys.argv[1], opset_version=13, input_names=['x'], output_names=['y'])
`;

function torchModel(): Model {
  const dir = mkdtempSync(join(tmpdir(), 'conv-affine-'));
  try {
    const path = join(dir, 'affine.onnx');
    execFileSync(PYTHON, ['-c', MAKE_MODEL, path], { stdio: 'ignore', timeout: 120_000 });
    return decodeOnnx(readFileSync(path));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runOrt(model: Model, x: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(encodeOnnx(model), { logSeverityLevel: 3, graphOptimizationLevel: 'disabled' });
  try {
    const result = await session.run({ x: new ort.Tensor('float32', x, [1, 3, 6, 6]) });
    return result[session.outputNames[0]!]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

const ops = (model: Model) => [...model.graph.nodes()].map((node) => node.op.replace('onnx.', ''));

describe('fuse folds a constant Mul and Add after Conv / ConvTranspose', () => {
  it('torch model: Conv·s+t and grouped ConvTranspose·s+t become two convs; ORT outputs within 1e-5', async () => {
    const model = torchModel();
    expect(ops(model)).toEqual(['Conv', 'Mul', 'Add', 'Relu', 'ConvTranspose', 'Mul', 'Add']);
    const x = Float32Array.from(randomTensor([1, 3, 6, 6], 5).toNumbers());
    const before = await runOrt(model, x);
    const run = await runPass(fusePass, model);
    expect(ops(model)).toEqual(['Conv', 'Relu', 'ConvTranspose']);
    expect(run.statistics.get('nodes-fused')).toBe(4);
    const after = await runOrt(model, x);
    expect(after.length).toBe(before.length);
    let worst = 0;
    for (let i = 0; i < before.length; i++) worst = Math.max(worst, Math.abs(after[i]! - before[i]!));
    expect(worst).toBeLessThanOrEqual(1e-5);
  }, 180_000);
});
