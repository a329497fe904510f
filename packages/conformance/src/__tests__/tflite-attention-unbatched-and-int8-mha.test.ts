/**
 * s18 issue 12, two attentions the head split did not match (note12's left-overs), made at test time by torch 1.13:
 * - a timm-style ViT attention exported with the batch folded away: `qkv = Linear(x[N, E])` (a Gemm on rows, transB)
 *   → `reshape(N, 3, H, hd).permute(1, 2, 0, 3)` → `qkv[0..2]`, merge `transpose(0, 1).reshape(N, E)` → `proj` (Gemm).
 *   The packed rewrite took the rank-5 `[B, N, 3, H, hd]` form only and the head split no bare Gemm: 3 TRANSPOSEs float,
 *   5 int8, 4 full-integer (the int8 merge with a Gemm out-projection, and the int8 Gemm's int32 bias, were not taken).
 * - nn.MultiheadAttention(batch_first) quantized by quantize-static: its out_proj is a Gemm on the merged rows, read in
 *   float (defaults) or int8 (full-integer); the merge matched a MatMul only: 2 TRANSPOSEs where the float model has 0.
 * Referees: ONNX Runtime on the ONNX / QDQ model vs TFLite 2.9 on the .tflite — float within 1e-4; int8 within the
 * bound the int8 ViT conformance test uses (0.05 absolute, defaults) / 2 output steps (full-integer).
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
const DIR = mkdtempSync(join(tmpdir(), 'tflite-attention-s18-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(DIR, { recursive: true, force: true });
});

const MAKE = String.raw`
import sys, torch, torch.nn as nn
torch.manual_seed(7)
kind, path, dynamic = sys.argv[1], sys.argv[2], sys.argv[3] == 'dynamic'
class MHA(nn.Module):
    def __init__(self):
        super().__init__()
        self.mha = nn.MultiheadAttention(16, 4, batch_first=True)
    def forward(self, x):
        return self.mha(x, x, x, need_weights=False)[0] + x
class UnbatchedViTAttention(nn.Module):
    def __init__(self, dim=32, heads=4):
        super().__init__()
        self.heads = heads
        self.qkv, self.proj, self.norm = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim), nn.LayerNorm(dim)
    def forward(self, x):
        n, c = x.shape
        qkv = self.qkv(self.norm(x)).reshape(n, 3, self.heads, c // self.heads).permute(1, 2, 0, 3)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = ((q @ k.transpose(-2, -1)) * (c // self.heads) ** -0.5).softmax(-1)
        return x + self.proj((a @ v).transpose(0, 1).reshape(n, c))
if kind == 'mha':
    m, x, axes = MHA().eval(), torch.randn(1, 11, 16), {'x': {0: 'b', 1: 's'}, 'y': {0: 'b', 1: 's'}}
else:
    m, x, axes = UnbatchedViTAttention().eval(), torch.randn(17, 32), {'x': {0: 'n'}, 'y': {0: 'n'}}
torch.onnx.export(m, x, path, opset_version=14, input_names=['x'], output_names=['y'], dynamic_axes=axes if dynamic else None)
`;

type Kind = 'mha' | 'vit';
type Axes = 'static' | 'dynamic';
const SHAPES: Record<Kind, number[]> = { mha: [1, 11, 16], vit: [17, 32] };
const DIMS: Record<Kind, string> = { mha: 'dims=[b:1,s:11]', vit: 'dims=[n:17]' };

const exported = new Map<string, Uint8Array>();

/** The model exported by torch (once per kind and axes), decoded afresh, its input given static dims where exported dynamic. */
function model(kind: Kind, axes: Axes): { model: Model; bytes: Uint8Array } {
  const key = `${kind}-${axes}`;
  let bytes = exported.get(key);
  if (!bytes) {
    const path = join(DIR, `${key}.onnx`);
    execFileSync(PYTHON, ['-c', MAKE, kind, path, axes], { stdio: 'pipe' });
    exported.set(key, (bytes = readFileSync(path)));
  }
  return { model: decodeOnnx(bytes), bytes };
}

function withStaticInput(value: Model, kind: Kind): Model {
  value.graph.inputs[0]!.type = tensorType('float32', SHAPES[kind]);
  return value;
}

describe('legalize-tflite: attention without TRANSPOSE — a ViT with no batch dim, int8 nn.MultiheadAttention', () => {
  for (const axes of ['static', 'dynamic'] as const) {
    it(`float ViT attention on [N, E] (${axes} export): no TRANSPOSE (was 3), TFLite 2.9 within 1e-4 of ORT`, async () => {
      const original = withStaticInput(model('vit', axes).model, 'vit');
      const converted = withStaticInput(model('vit', axes).model, 'vit');
      await legalize(converted);
      expect(countTransposes(converted.graph)).toEqual({ inner: 0, boundary: 0 });
      const differences = await compareInRuntimes(original, converted, feedsFor(original, 5));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
    }, 120_000);
  }

  // simplify first or not: with it the MHA's zero in_proj bias goes and q's Reshape → Transpose → Div stays float on a
  // DequantizeLinear of the int8 packed projection (dequantizedHeadSplit); without it, only the merge was left.
  const int8Cases: readonly { kind: Kind; axes: Axes; simplify: boolean; was: number }[] = [
    { kind: 'vit', axes: 'static', simplify: true, was: 5 },
    { kind: 'mha', axes: 'static', simplify: true, was: 3 },
    { kind: 'mha', axes: 'static', simplify: false, was: 2 },
    { kind: 'mha', axes: 'dynamic', simplify: false, was: 2 },
  ];
  for (const { kind, axes, simplify, was } of int8Cases) {
    it(`int8 ${kind} (${axes} export${simplify ? ', simplified' : ''}), quantize-static defaults: no TRANSPOSE (was ${was}), TFLite 2.9 within 0.05 of ORT on the QDQ model`, async () => {
      const { model: float } = model(kind, axes);
      await runPipeline(float, `${simplify ? 'simplify,' : ''}quantize-static{samples=16 seed=3 ${DIMS[kind]}}`);
      const qdq = encodeOnnx(float);
      const converted = withStaticInput(decodeOnnx(qdq), kind);
      await legalize(converted);
      const path = join(DIR, `${kind}-${axes}-${simplify}-int8.tflite`);
      writeTflite(converted, path);
      expect(readTflite(path).graph.nodeList().filter((node) => node.op === 'tflite.TRANSPOSE')).toHaveLength(0);
      const engine = new TfliteEngine();
      try {
        for (const seed of [1, 2, 3]) {
          const x = seededUniform(SHAPES[kind], 60 + seed, -2, 4);
          expect(await worstOrtTfliteGap(qdq, engine, path, { x }), `seed ${seed}`).toBeLessThanOrEqual(0.05);
        }
      } finally {
        engine.dispose();
      }
    }, 180_000);
  }

  it('int8 ViT attention on [N, E], quantize-static{full-integer}: no TRANSPOSE (was 4), TFLite 2.9 within 2 output steps of ORT', async () => {
    const { model: float } = model('vit', 'static');
    const path = join(DIR, 'vit-full-integer.tflite');
    const { qdq, written, ops } = await fullIntegerTflite(float, 'simplify,quantize-static{samples=16 seed=3 full-integer=true}', path);
    expect(ops.filter((op) => op.startsWith('TRANSPOSE'))).toEqual([]);
    expect(countTransposes(written)).toEqual({ inner: 0, boundary: 0 });
    const outQuant = quantOf(written.outputs[0]!)!;
    const engine = new TfliteEngine();
    try {
      for (const seed of [1, 2, 3]) {
        const x = seededUniform(SHAPES.vit, 60 + seed, -2, 4);
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
