/**
 * s17 issue 12: a ViT attention written as timm/DeiT write it — one packed `qkv` Linear, `reshape(B, N, 3, H, hd)
 * .permute(2, 0, 3, 1, 4)`, `q, k, v = qkv[0], qkv[1], qkv[2]` (or `unbind(0)`), `q @ k.transpose(-2, -1)`, softmax,
 * `(attn @ v).transpose(1, 2).reshape(B, N, E)`, `proj` — kept 3 TRANSPOSEs per attention (7 in a 2-block ViT, the
 * input's NCHW → NHWC swap besides): the head split of attention-heads.ts did not match the packed Reshape → Transpose
 * → Gather. prepare now rewrites the packed split into three head splits of the packed projection's columns, so the
 * only TRANSPOSE left is the input's swap at the edge. Made at test time by torch 1.13 (opset 13 and 17, a static and a
 * dynamic batch); referees: ONNX Runtime on the ONNX model vs TFLite 2.9 on the .tflite (float within 1e-4), and on the
 * quantize-static QDQ model (default and full-integer) vs its int8 .tflite.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tensorType, type Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { countTransposes, readTflite, writeTflite } from '@modelpass/tflite';
import { fullIntegerTflite, quantizeInput, quantOf, runPipeline } from './full-integer-harness.js';
import { seededUniform, stepsApart, worstOrtTfliteGap } from './int8-agreement.js';
import { compareInRuntimes, feedsFor, legalize } from './tflite-legalize-harness.js';

const PYTHON = '/usr/bin/python3';
const DIR = mkdtempSync(join(tmpdir(), 'tflite-attention-vit-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(DIR, { recursive: true, force: true });
});

/** A 2-block ViT (dim 32, 4 heads, 4×4 patches of 16×16 images: 17 tokens, 10 classes), timm's attention. */
const MAKE_VIT = String.raw`
import sys, torch, torch.nn as nn, torch.nn.functional as F
torch.manual_seed(5)
path, opset, dynamic, unbind, depth = sys.argv[1], int(sys.argv[2]), sys.argv[3] == 'dynamic', sys.argv[4] == 'unbind', int(sys.argv[5])
class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0) if unbind else (qkv[0], qkv[1], qkv[2])
        attention = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((attention @ v).transpose(1, 2).reshape(b, n, c))
class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1, self.norm2, self.attn = nn.LayerNorm(dim), nn.LayerNorm(dim), Attention(dim, heads)
        self.up, self.down = nn.Linear(dim, 2 * dim), nn.Linear(2 * dim, dim)
    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.down(F.gelu(self.up(self.norm2(x))))
class TinyViT(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.patches = nn.Conv2d(3, dim, 4, 4)
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.5)
        self.pos = nn.Parameter(torch.randn(1, 17, dim) * 0.5)
        self.blocks = nn.Sequential(*[Block(dim, 4) for _ in range(depth)])
        self.norm, self.head = nn.LayerNorm(dim), nn.Linear(dim, 10)
    def forward(self, x):
        x = self.patches(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        return self.head(self.norm(self.blocks(x))[:, 0])
torch.onnx.export(TinyViT().eval(), torch.randn(2, 3, 16, 16), path, opset_version=opset, input_names=['x'], output_names=['y'],
                  dynamic_axes={'x': {0: 'b'}, 'y': {0: 'b'}} if dynamic else None)
`;

interface VitCase {
  readonly opset: number;
  readonly batch: 'static' | 'dynamic';
  readonly parts: 'index' | 'unbind';
  /** Blocks: 2 unless given. */
  readonly depth?: number;
}

const exported = new Map<string, Uint8Array>();

/** The ViT of `testCase` exported by torch (once per case), decoded afresh. */
function vit(testCase: VitCase): Model {
  const depth = testCase.depth ?? 2;
  const key = `${testCase.opset}-${testCase.batch}-${testCase.parts}-${depth}`;
  let bytes = exported.get(key);
  if (!bytes) {
    const path = join(DIR, `vit-${key}.onnx`);
    execFileSync(PYTHON, ['-c', MAKE_VIT, path, String(testCase.opset), testCase.batch, testCase.parts, String(depth)], { stdio: 'pipe' });
    exported.set(key, (bytes = readFileSync(path)));
  }
  return decodeOnnx(bytes);
}

describe("legalize-tflite: timm/DeiT's packed-qkv ViT attention without TRANSPOSE inside", () => {
  const cases: readonly (VitCase & { name: string; inputBatch?: number })[] = [
    { name: 'qkv[0], qkv[1], qkv[2], batch 2, opset 13', opset: 13, batch: 'static', parts: 'index' },
    { name: 'unbind(0), a dynamic batch, opset 17', opset: 17, batch: 'dynamic', parts: 'unbind' },
    { name: 'qkv[i], a dynamic batch given as 3 (--input-shape), opset 14', opset: 14, batch: 'dynamic', parts: 'index', inputBatch: 3 },
  ];
  for (const testCase of cases) {
    it(`float: ${testCase.name} — only the input's NCHW → NHWC swap, TFLite 2.9 within 1e-4 of ORT`, async () => {
      const original = vit(testCase);
      const converted = vit(testCase);
      if (testCase.inputBatch) {
        for (const model of [original, converted]) model.graph.inputs[0]!.type = tensorType('float32', [testCase.inputBatch, 3, 16, 16]);
      }
      await legalize(converted);
      expect(countTransposes(converted.graph)).toEqual({ inner: 0, boundary: 1 }); // was { inner: 6, boundary: 1 }
      const differences = await compareInRuntimes(original, converted, feedsFor(original, 5));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
    }, 120_000);
  }

  // The ViT of tflite-full-integer-vit-batch.test.ts (1 block, a dynamic batch, opset 14), run at batch 1 as there.
  const int8Case: VitCase = { opset: 14, batch: 'dynamic', parts: 'index', depth: 1 };

  it('int8, quantize-static defaults: the one TRANSPOSE is the input swap, TFLite 2.9 within 0.05 of ORT on the QDQ model', async () => {
    const model = vit(int8Case);
    await runPipeline(model, 'simplify,quantize-static{samples=16 seed=3}');
    const qdq = encodeOnnx(model);
    const converted = decodeOnnx(qdq);
    await legalize(converted);
    const path = join(DIR, 'vit-int8.tflite');
    writeTflite(converted, path);
    const written = readTflite(path).graph;
    // Was 7 (3 per attention): now only the input's NCHW → NHWC swap, of the QUANTIZEd input.
    const transposes = written.nodeList().filter((node) => node.op === 'tflite.TRANSPOSE');
    expect(transposes.map((node) => node.inputs[0]!.producer?.op ?? 'input')).toEqual(['tflite.QUANTIZE']);
    expect(transposes[0]!.inputs[0]!.producer!.inputs[0]!.isGraphInput).toBe(true);
    const engine = new TfliteEngine();
    try {
      for (const seed of [1, 2, 3]) {
        const x = seededUniform([1, 3, 16, 16], 60 + seed, -2, 4);
        expect(await worstOrtTfliteGap(qdq, engine, path, { x }), `seed ${seed}`).toBeLessThanOrEqual(0.05);
      }
    } finally {
      engine.dispose();
    }
  }, 180_000);

  it('int8, quantize-static{full-integer}: the one TRANSPOSE is the input swap, TFLite 2.9 within 2 output steps of ORT', async () => {
    const model = vit(int8Case);
    const path = join(DIR, 'vit-full-integer.tflite');
    const { qdq, written, ops } = await fullIntegerTflite(model, 'simplify,quantize-static{samples=16 seed=3 full-integer=true}', path);
    expect(ops.filter((op) => op.startsWith('TRANSPOSE'))).toEqual(['TRANSPOSE(int8)']); // was 7
    expect(countTransposes(written)).toEqual({ inner: 0, boundary: 1 });
    const outQuant = quantOf(written.outputs[0]!)!;
    const engine = new TfliteEngine();
    try {
      for (const seed of [1, 2, 3]) {
        const x = seededUniform([1, 3, 16, 16], 60 + seed, -2, 4);
        const ort = (await runOrt(qdq, { x })).get('y')!.toNumbers();
        const tflite = [...(await engine.run(path, { x: quantizeInput(x, written.inputs[0]!) })).values()][0]!;
        const reals = tflite.toNumbers().map((v) => (v - outQuant.zeroPoint[0]!) * outQuant.scale[0]!);
        expect(new Set(reals).size).toBeGreaterThan(4);
        expect(stepsApart(ort, reals, outQuant.scale[0]!), `seed ${seed}`).toBeLessThanOrEqual(2.001);
      }
    } finally {
      engine.dispose();
    }
  }, 180_000);
});
