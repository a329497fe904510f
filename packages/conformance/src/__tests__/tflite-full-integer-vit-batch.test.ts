/**
 * s16 issue 12 (QA round 11): a torch ViT exported with a dynamic batch axis expands its class token to the run-time
 * batch (`Expand(cls, Where(Equal(Concat(Shape(x)[0], 1, 1), -1), 1, ·))`). quantize-static{full-integer=true} left that
 * Expand float (its data input is a constant) and legalize-tflite had no int8 lowering for an Expand to a run-time
 * shape, so legalize-tflite{io-type=int8 full-integer=true} refused the model. Now the class token is stored int8 on
 * its own range, the Expand copies those integers (BROADCAST_TO to MAXIMUM(SHAPE(token), target)), and TFLite 2.9 agrees
 * with ONNX Runtime on the same QDQ model within 2 output steps (batch 1: our TFLite binding cannot resize inputs).
 * A Tile of a constant by run-time multiples (the same token, tiled) is int8 TILE the same way.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { decodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { seededUniform, stepsApart } from './int8-agreement.js';
import { fullIntegerTflite, quantizeInput, quantOf } from './full-integer-harness.js';

const PYTHON = '/usr/bin/python3';
const DIR = mkdtempSync(join(tmpdir(), 'tflite-full-integer-vit-batch-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(DIR, { recursive: true, force: true });
});

/** A 1-block ViT (dim 32, 4 heads, 4×4 patches of 16×16 images, 10 classes), batch axis dynamic, opset 14. */
const MAKE_VIT = String.raw`
import sys, torch, torch.nn as nn, torch.nn.functional as F
torch.manual_seed(5)
class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.out = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.up, self.down = nn.Linear(dim, 2 * dim), nn.Linear(2 * dim, dim)
    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attention = ((q @ k.transpose(-2, -1)) * (c // self.heads) ** -0.5).softmax(-1)
        x = x + self.out((attention @ v).transpose(1, 2).reshape(b, n, c))
        return x + self.down(F.gelu(self.up(self.norm2(x))))
class TinyViT(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.patches = nn.Conv2d(3, dim, 4, 4)
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.5)
        self.pos = nn.Parameter(torch.randn(1, 17, dim) * 0.5)
        self.blocks = nn.Sequential(Block(dim, 4))
        self.norm, self.head = nn.LayerNorm(dim), nn.Linear(dim, 10)
    def forward(self, x):
        x = self.patches(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        return self.head(self.norm(self.blocks(x))[:, 0])
torch.onnx.export(TinyViT().eval(), torch.randn(2, 3, 16, 16), sys.argv[1], opset_version=14, input_names=['x'],
                  output_names=['y'], dynamic_axes={'x': {0: 'b'}, 'y': {0: 'b'}})
`;

describe('full-integer TFLite: a torch ViT with a dynamic batch', () => {
  it('the class token Expand to the run-time batch is int8 BROADCAST_TO; no float op; TFLite 2.9 within 2 steps of ORT', async () => {
    const onnxPath = join(DIR, 'vit.onnx');
    execFileSync(PYTHON, ['-c', MAKE_VIT, onnxPath], { stdio: 'pipe' });
    const model = decodeOnnx(readFileSync(onnxPath));
    expect(model.graph.nodeList().some((node) => node.op === 'onnx.Expand')).toBe(true);
    const path = join(DIR, 'vit.tflite');
    const { qdq, written, ops } = await fullIntegerTflite(model, 'simplify,quantize-static{samples=16 seed=3 full-integer=true}', path);
    expect(ops, ops.join(' ')).toContain('BROADCAST_TO(int8)');
    expect(ops.filter((op) => op.startsWith('DEQUANTIZE(') || op.endsWith('(float32)')), ops.join(' ')).toEqual([]);
    const outQuant = quantOf(written.outputs[0]!)!;
    const engine = new TfliteEngine();
    try {
      for (const seed of [1, 2, 3]) {
        const x = seededUniform([1, 3, 16, 16], 60 + seed, -2, 4);
        const ort = (await runOrt(qdq, { x })).get('y')!.toNumbers();
        const tflite = [...(await engine.run(path, { x: quantizeInput(x, written.inputs[0]!) })).values()][0]!;
        expect(tflite.dtype).toBe('int8');
        const reals = tflite.toNumbers().map((v) => (v - outQuant.zeroPoint[0]!) * outQuant.scale[0]!);
        expect(new Set(reals).size).toBeGreaterThan(4);
        expect(stepsApart(ort, reals, outQuant.scale[0]!), `seed ${seed}`).toBeLessThanOrEqual(2.001);
      }
    } finally {
      engine.dispose();
    }
  }, 180_000);
});

/** x [N, 4, 8] → MatMul → Concat(Tile(token [1, 1, 8], [N, 1, 1]), ·) → + positions: the token tiled to the run-time batch. */
function tiledTokenModel(): Model {
  const b = new GraphBuilder();
  const w = (shape: number[], seed: number, span: number) => b.constant(seededUniform(shape, seed, -span / 2, span));
  const x = b.input('x', tensorType('float32', ['N', 4, 8]));
  const tokens = b.op1('onnx.MatMul', [x, w([8, 8], 11, 1.5)], {}, { name: 'embed' });
  const batch = b.op1('onnx.Shape', [x], { start: attrs.int(0), end: attrs.int(1) }, { name: 'batch' });
  const multiples = b.op1('onnx.Concat', [batch, b.constant(Tensor.fromValues('int64', [2], [1n, 1n]))], { axis: attrs.int(0) }, { name: 'multiples' });
  const token = b.op1('onnx.Tile', [w([1, 1, 8], 12, 1), multiples], {}, { name: 'cls_tile' });
  const joined = b.op1('onnx.Concat', [token, tokens], { axis: attrs.int(1) }, { name: 'cls_concat' });
  b.output(b.op1('onnx.Add', [joined, w([1, 5, 8], 13, 0.5)], {}, { name: 'pos_add', outputs: ['y'] }));
  return b.model({ onnx: 15 });
}

describe('full-integer TFLite: a constant tiled to the run-time batch', () => {
  it('int8 TILE of the token, no float op; TFLite 2.9 within 2 steps of ORT', async () => {
    const model = tiledTokenModel();
    const path = join(DIR, 'tile.tflite');
    const { qdq, written, ops } = await fullIntegerTflite(model, 'quantize-static{samples=16 seed=3 full-integer=true}', path);
    expect(ops, ops.join(' ')).toContain('TILE(int8)');
    expect(ops.filter((op) => op.startsWith('DEQUANTIZE(') || op.endsWith('(float32)')), ops.join(' ')).toEqual([]);
    const outQuant = quantOf(written.outputs[0]!)!;
    const engine = new TfliteEngine();
    try {
      for (const seed of [1, 2]) {
        const x = seededUniform([1, 4, 8], 70 + seed, -2, 4);
        const ort = (await runOrt(qdq, { x })).get('y')!.toNumbers();
        const tflite = [...(await engine.run(path, { x: quantizeInput(x, written.inputs[0]!) })).values()][0]!;
        const reals = tflite.toNumbers().map((v) => (v - outQuant.zeroPoint[0]!) * outQuant.scale[0]!);
        expect(new Set(reals).size).toBeGreaterThan(8);
        expect(stepsApart(ort, reals, outQuant.scale[0]!), `seed ${seed}`).toBeLessThanOrEqual(2.001);
      }
    } finally {
      engine.dispose();
    }
  }, 120_000);
});
