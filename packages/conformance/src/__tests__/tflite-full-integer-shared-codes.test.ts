/**
 * QA s17 round 13 R1: quantize-static's compact-qdq merges equal initializers, so in PaddleOCR mobile v2 cls one
 * uint8 `255` is a Conv output's zero point (a tensor that is never positive) and the code of the decomposed
 * HardSwish's +3 and ×1/6 (DequantizeLinear with two scales). legalize-tflite{io-type=int8 full-integer=true}
 * refused the model (36 nodes "would stay float: … (a float constant, not quantized)"); each set of
 * DequantizeLinears now gets its own copy of the code. Judged here: the .tflite holds int8/int32 operands only
 * and TFLite 2.9 agrees with ONNX Runtime on the QDQ model — an IR-built Add/Mul model with the shared code within
 * one output step (the other full-integer tests' bound for single ops), the PaddleOCR cls (48×192, seeded calibration)
 * within six steps of its softmax (1/256 each; measured 4–5). Why more than the small nets' two: at the first Conv
 * 6–16 of 18,432 elements are one step apart (rounding ties: TFLite's fixed-point multiplier, ORT's float one), and
 * the ~50 layers after it, with HardSwish's x·relu6(x+3) and squeeze-excitation gates, spread those single steps
 * (12–20 steps of the local scale mid-network, on a handful of elements); ORT's own optimized and unoptimized runs
 * of the same model agree within one step at the output, so the ORT side is one fixed reference.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType, type Model, type TensorType, type Value } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx, readOnnx } from '@modelpass/onnx';
import { PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { readTflite, writeTflite } from '@modelpass/tflite';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';
import { seededUniform, stepsApart } from './int8-agreement.js';

afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(DIR, { recursive: true, force: true });
});

const DIR = mkdtempSync(join(tmpdir(), 'tflite-shared-codes-'));

async function run(model: Model, pipeline: string): Promise<Map<string, number>> {
  const statistics = new StatisticsInstrumentation();
  await new PassManager({ environment: builtinEnvironment(), instrumentations: [statistics] }).run(model, pipeline);
  return new Map(statistics.get('legalize-tflite') ?? []);
}

const dtypeOf = (value: Value) => (value.type as TensorType).dtype;
const quantOf = (value: Value) => (value.type as TensorType).quant ?? value.constant?.quant;

/**
 * Legalizes the QDQ model strictly full-integer with int8 io, writes it, checks every operand is int8/int32, and
 * returns the worst distance from ORT (in output steps) over `seeds` inputs drawn uniformly from [low, low + span).
 */
async function worstStepsFromOrt(qdq: Uint8Array, name: string, shape: number[], seeds: number[], low: number, span: number): Promise<number> {
  const converted = decodeOnnx(qdq);
  const input = converted.graph.inputs[0]!;
  input.type = tensorType('float32', shape);
  const statistics = await run(converted, 'legalize-tflite{io-type=int8 full-integer=true}');
  expect(statistics.get('float-ops-in-int8-model')).toBe(0);
  const path = join(DIR, `${name}.tflite`);
  writeTflite(converted, path);
  const written = readTflite(path).graph;
  const operands = written.nodeList().flatMap((node) => [...node.inputs, ...node.outputs].filter((v): v is Value => !!v).map((v) => `${node.op.slice(7)}:${dtypeOf(v)}`));
  expect(operands.filter((entry) => !/:(int8|int32)$/.test(entry))).toEqual([]);
  const inQuant = quantOf(written.inputs[0]!)!;
  const outQuant = quantOf(written.outputs[0]!)!;
  const outputName = written.outputs[0]!.name;
  const engine = new TfliteEngine();
  let worst = 0;
  for (const seed of seeds) {
    // One set of integers for both runtimes: TFLite gets them, ORT their reals (exactly representable).
    const q = seededUniform(shape, seed, low, span).toNumbers().map((v) => Math.max(-128, Math.min(127, Math.round(v / inQuant.scale[0]!) + inQuant.zeroPoint[0]!)));
    const x = Tensor.fromValues('float32', shape, q.map((v) => (v - inQuant.zeroPoint[0]!) * inQuant.scale[0]!));
    const ort = [...(await runOrt(qdq, { [input.name]: x })).values()][0]!.toNumbers();
    const tflite = (await engine.run(path, { [input.name]: Tensor.fromValues('int8', shape, q) })).get(outputName)!;
    expect(tflite.dtype).toBe('int8');
    const reals = tflite.toNumbers().map((v) => (v - outQuant.zeroPoint[0]!) * outQuant.scale[0]!);
    expect(reals).toHaveLength(ort.length);
    worst = Math.max(worst, stepsApart(ort, reals, outQuant.scale[0]!));
  }
  return worst;
}

/** x ≤ 0 quantized with the zero point `q0` (uint8 255) → Add(DQ(q0, 3/255)) → Q/DQ → Mul(DQ(q0, (1/6)/255)) → Q/DQ. */
function sharedCodeModel(): Model {
  const b = new GraphBuilder();
  const code = b.constant(Tensor.scalar('uint8', 255), 'q0');
  const zero = b.constant(Tensor.scalar('uint8', 0), 'qz0');
  const pair = (value: Value, scale: number, zeroPoint: Value, name: string): Value => {
    const s = b.constant(Tensor.scalar('float32', Math.fround(scale)), `${name}_scale`);
    return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, zeroPoint], {}, { name: `${name}_q` }), s, zeroPoint], {}, { name: `${name}_dq` });
  };
  const constant = (scale: number, name: string) => b.op1('onnx.DequantizeLinear', [code, b.constant(Tensor.scalar('float32', Math.fround(scale)), `${name}_scale`), zero], {}, { name });
  const x = pair(b.input('x', tensorType('float32', [1, 4, 3, 3])), 0.02, code, 'x');
  const added = pair(b.op1('onnx.Add', [x, constant(3 / 255, 'three')], {}, { name: 'add' }), 0.012, zero, 'add');
  b.output(pair(b.op1('onnx.Mul', [added, constant(1 / 6 / 255, 'sixth')], {}, { name: 'mul', outputs: ['y'] }), 0.002, zero, 'y'));
  return b.model({ onnx: 13 });
}

describe('full-integer TFLite of a QDQ model whose shared uint8 code is also a zero point', () => {
  it('IR-built: x (zero point 255) + 3, × 1/6 from one uint8 255 — int8 only, TFLite 2.9 within one step of ORT', async () => {
    const worst = await worstStepsFromOrt(encodeOnnx(sharedCodeModel()), 'shared-code', [1, 4, 3, 3], [1, 2, 3], -5, 5);
    expect(worst).toBeLessThanOrEqual(1.001);
  }, 60_000);

  it('PaddleOCR mobile v2 cls (simplify, quantize-static full-integer, 48×192) — int8 only, TFLite 2.9 within six softmax steps of ORT', async () => {
    const [entry] = await ensureThirdPartyModels({ ids: ['ppocr-mobile-v2-cls'] });
    const model = readOnnx(entry!.path);
    const dims = 'dims=[p2o.DynamicDimension.0:1,p2o.DynamicDimension.1:48,p2o.DynamicDimension.2:192]';
    await run(model, `simplify,quantize-static{samples=16 seed=1 full-integer=true ${dims}}`);
    const qdq = encodeOnnx(model);
    // The merge this test is about: one uint8 code that a QuantizeLinear reads as its zero point and DequantizeLinears
    // read with two or more scales (it is what legalize refused).
    const shared = model.graph.nodeList().filter((node) => node.op === 'onnx.QuantizeLinear').map((node) => node.inputs[2]!)
      .filter((zeroPoint) => new Set(zeroPoint.users.filter((user) => user.op === 'onnx.DequantizeLinear' && user.inputs[0] === zeroPoint).map((user) => user.inputs[1]!.constant!.toNumbers()[0])).size >= 2);
    expect(shared.length).toBeGreaterThan(0);
    const worst = await worstStepsFromOrt(qdq, 'ppocr-cls', [1, 3, 48, 192], [11, 12, 13, 14], -2, 4);
    if (process.env.TFLITE_FIGURES) console.log(`FIGURES ppocr-mobile-v2-cls full-integer: worst ${worst} output steps from ORT`);
    expect(worst).toBeLessThanOrEqual(6.001);
  }, 120_000);
});
