/**
 * Full-integer PaddleOCR mobile v2 cls drifted from ONNX Runtime by 13–15 softmax steps on smooth images; the first
 * place it shows is the MUL of its first HardSwish, x · relu6(x + 3), one step off ORT on 2 % of that layer's
 * elements with both runtimes fed the same integers (tools/bench/tflite/int8-layers.mjs --npy): TFLite 2.9's MUL
 * requantizes with MultiplyByQuantizedMultiplier, which rounds twice (code 7: 20.4978 steps, TFLite 21, ORT 20).
 * legalize-tflite now writes such a chain on one int8 value (`quantized/unary-table-int8.ts`) as CAST → GATHER of
 * its 256 results computed with ORT's QDQ semantics. Judged here on that HardSwish with the cls model's own
 * quantization parameters, every one of the 256 input codes: TFLite's integers equal ORT's (the ADD/MUL/MUL lowering
 * was one step off on codes 6 and 62); the same for x·HardSigmoid(x), quantize-static's default HardSwish (the
 * HardSigmoid-as-MUL/ADD/MUL then MUL was off on codes −98 and 10); a lone ADD of a constant keeps its int8 kernel.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type TensorType, type Value } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { readTflite, writeTflite } from '@modelpass/tflite';

const DIR = mkdtempSync(join(tmpdir(), 'tflite-hardswish-table-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(DIR, { recursive: true, force: true });
});

/** The cls model's first HardSwish as quantize-static{full-integer=true} writes it (uint8 activations, shared `255` code). */
function hardSwishModel(): Model {
  const b = new GraphBuilder();
  const u8 = (v: number, name: string) => b.constant(Tensor.scalar('uint8', v), name);
  const f32 = (v: number, name: string) => b.constant(Tensor.scalar('float32', Math.fround(v)), name);
  const pair = (value: Value, scale: number, zeroPoint: number, name: string): Value => {
    const s = f32(scale, `${name}_scale`);
    const z = u8(zeroPoint, `${name}_zero`);
    return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, z], {}, { name: `${name}_q` }), s, z], {}, { name: `${name}_dq` });
  };
  const code = (scale: number, name: string) => b.op1('onnx.DequantizeLinear', [u8(255, `${name}_code`), f32(scale, `${name}_scale`), u8(0, `${name}_zero`)], {}, { name });
  const x = pair(b.input('x', tensorType('float32', [1, 1, 16, 16])), 0.055038, 127, 'x');
  const shifted = pair(b.op1('onnx.Add', [x, code(3 / 255, 'three')], {}, { name: 'add' }), 6 / 255, 0, 'relu6');
  const product = pair(b.op1('onnx.Mul', [x, shifted], {}, { name: 'mul' }), 0.1741, 13, 'mul');
  b.output(pair(b.op1('onnx.Mul', [product, code(1 / 6 / 255, 'sixth')], {}, { name: 'div', outputs: ['y'] }), 0.029017, 13, 'y'));
  return b.model({ onnx: 13 });
}

/** HardSwish as quantize-static's default path splits it: x · HardSigmoid(x) (torch's α = 1/6), the gate on [0, 1]. */
function hardSigmoidProductModel(): Model {
  const b = new GraphBuilder();
  const pair = (value: Value, scale: number, zeroPoint: number): Value => {
    const s = b.constant(Tensor.scalar('float32', Math.fround(scale)));
    const z = b.constant(Tensor.scalar('uint8', zeroPoint));
    return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, z]), s, z]);
  };
  const x = pair(b.input('x', tensorType('float32', [1, 1, 16, 16])), 0.04, 100);
  const gate = pair(b.op1('onnx.HardSigmoid', [x], { alpha: attrs.float(1 / 6), beta: attrs.float(0.5) }), 1 / 255, 0);
  b.output(pair(b.op1('onnx.Mul', [x, gate], {}, { outputs: ['y'] }), 0.021, 20));
  return b.model({ onnx: 13 });
}

/** x (one step of 0.05) + 3 alone, quantized to [0, 6]. */
function addModel(): Model {
  const b = new GraphBuilder();
  const s = (v: number) => b.constant(Tensor.scalar('float32', Math.fround(v)));
  const z = (v: number) => b.constant(Tensor.scalar('uint8', v));
  const qdq = (value: Value, scale: number, zeroPoint: number) => b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s(scale), z(zeroPoint)]), s(scale), z(zeroPoint)]);
  const x = qdq(b.input('x', tensorType('float32', [1, 1, 16, 16])), 0.05, 127);
  const three = b.op1('onnx.DequantizeLinear', [z(255), s(3 / 255), z(0)]);
  b.output(qdq(b.op1('onnx.Add', [x, three], {}, { outputs: ['y'] }), 6 / 255, 0));
  return b.model({ onnx: 13 });
}

async function toTflite(qdq: Uint8Array, name: string): Promise<{ path: string; ops: string[] }> {
  const model = decodeOnnx(qdq);
  const statistics = new StatisticsInstrumentation();
  await new PassManager({ environment: builtinEnvironment(), instrumentations: [statistics] }).run(model, 'legalize-tflite{io-type=int8 full-integer=true}');
  expect(new Map(statistics.get('legalize-tflite') ?? []).get('float-ops-in-int8-model')).toBe(0);
  const path = join(DIR, `${name}.tflite`);
  writeTflite(model, path);
  return { path, ops: readTflite(path).graph.nodeList().map((node) => node.op.slice(7)) };
}

/** TFLite's and ORT's output codes (int8, ORT's uint8 shifted by −128) for every input code, in order. */
async function bothRuntimes(qdq: Uint8Array, path: string): Promise<{ tflite: number[]; ort: number[] }> {
  const written = readTflite(path).graph;
  const inQuant = ((written.inputs[0]!.type as TensorType).quant)!;
  const outQuant = ((written.outputs[0]!.type as TensorType).quant)!;
  const codes = Array.from({ length: 256 }, (_, i) => i - 128);
  const shape = [1, 1, 16, 16];
  const reals = codes.map((q) => (q - inQuant.zeroPoint[0]!) * inQuant.scale[0]!);
  const ortReals = [...(await runOrt(qdq, { x: Tensor.fromValues('float32', shape, reals) })).values()][0]!.toNumbers().map(Number);
  const tflite = (await new TfliteEngine().run(path, { x: Tensor.fromValues('int8', shape, codes) })).get(written.outputs[0]!.name)!.toNumbers().map(Number);
  const ort = ortReals.map((r) => Math.round(r / outQuant.scale[0]!) + outQuant.zeroPoint[0]!);
  return { tflite, ort };
}

describe('int8 HardSwish chain on one value → a 256-code table (TFLite equals ORT)', () => {
  it('x·relu6(x+3)/6 with PaddleOCR cls parameters: CAST → GATHER, every code equal to ONNX Runtime', async () => {
    const qdq = encodeOnnx(hardSwishModel());
    const { path, ops } = await toTflite(qdq, 'hardswish');
    expect(ops).toContain('GATHER');
    expect(ops.filter((op) => op === 'MUL' || op === 'ADD')).toEqual([]);
    const { tflite, ort } = await bothRuntimes(qdq, path);
    const apart = tflite.flatMap((q, i) => (q === ort[i] ? [] : [`code ${i - 128}: TFLite ${q}, ORT ${ort[i]}`]));
    expect(apart).toEqual([]);
  }, 60_000);

  it('x·HardSigmoid(x) (the default path\'s HardSwish): CAST → GATHER, every code equal to ONNX Runtime', async () => {
    const qdq = encodeOnnx(hardSigmoidProductModel());
    const { path, ops } = await toTflite(qdq, 'hard-sigmoid-product');
    expect(ops).toContain('GATHER');
    expect(ops).not.toContain('MUL');
    const { tflite, ort } = await bothRuntimes(qdq, path);
    expect(tflite.flatMap((q, i) => (q === ort[i] ? [] : [`code ${i - 128}: TFLite ${q}, ORT ${ort[i]}`]))).toEqual([]);
  }, 60_000);

  it('a lone Add of a constant keeps its int8 ADD (within one step of ORT)', async () => {
    const qdq = encodeOnnx(addModel());
    const { path, ops } = await toTflite(qdq, 'add');
    expect(ops).toContain('ADD');
    expect(ops).not.toContain('GATHER');
    const { tflite, ort } = await bothRuntimes(qdq, path);
    expect(Math.max(...tflite.map((q, i) => Math.abs(q - ort[i]!)))).toBeLessThanOrEqual(1);
  }, 60_000);
});
