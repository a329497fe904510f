/**
 * com.microsoft.MatMulNBits (what quantize-weights{bits=4} writes) in TFLite 2.9 (s16 issue 12, item 5; refused
 * before: 'com.microsoft.MatMulNBits has no TFLite lowering'). Integer zero points: int8 codes q − zero_point in
 * rows of one block, one scale per row, per-channel DEQUANTIZE → RESHAPE (→ SLICE) → FULLY_CONNECTED; HQQ's
 * fractional zero points: float32 weights equal to ORT's dequantized ones, with a warning naming the node and the
 * size. Judged against ONNX Runtime running the quantized model (accuracy_level 0: float compute). The same for
 * com.microsoft.GatherBlockQuantized (quantize-weights{bits=4}'s embedding tables): the dequantized table, then GATHER.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType, type Diagnostic, type Model, type TensorType } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { PassManager } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { encodeTflite } from '@modelpass/tflite';
import { feedsFor, seededTensor } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

const engine = new TfliteEngine();

interface LinearCase {
  /** A's shape ([..., K]). */
  readonly input: readonly (number | string)[];
  readonly n: number;
  /** Gemm (2-D A) with a bias instead of MatMul. */
  readonly gemm?: boolean;
}

/** A float MatMul (or Gemm + bias) by a seeded [K, N] weight, then a Relu so the output is not the weight's node. */
function linearModel(testCase: LinearCase): Model {
  const k = testCase.input[testCase.input.length - 1] as number;
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [...testCase.input]));
  const weight = b.constant(seededTensor([k, testCase.n], 101, -0.8, 0.6), 'w');
  const y = testCase.gemm ? b.op1('onnx.Gemm', [x, weight, b.constant(seededTensor([testCase.n], 102), 'bias')]) : b.op1('onnx.MatMul', [x, weight]);
  b.output(b.op1('onnx.Relu', [y]));
  const model = b.model({ onnx: 17 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

async function run(model: Model, pipeline: string): Promise<Diagnostic[]> {
  const result = await new PassManager({ environment: builtinEnvironment() }).run(model, pipeline);
  return [...result.diagnostics];
}

/** quantize-weights{options} of the case, then legalize-tflite; TFLite's outputs against ORT's on the quantized model. */
async function convert(testCase: LinearCase, options: string): Promise<{ quantized: Model; converted: Model; difference: number; scale: number; diagnostics: Diagnostic[] }> {
  const quantized = linearModel(testCase);
  await run(quantized, `quantize-weights{${options}}`);
  expect(quantized.graph.nodeList().map((node) => node.op)).toContain('com.microsoft.MatMulNBits');
  const converted = linearModel(testCase);
  const diagnostics = await run(converted, `quantize-weights{${options}},legalize-tflite`);
  const ops = converted.graph.nodeList().map((node) => node.op);
  expect(ops.filter((op) => !op.startsWith('tflite.'))).toEqual([]);
  const feeds = feedsFor(quantized, 7, [-2, 2]);
  const want = (await runOrt(quantized, feeds)).get(quantized.graph.outputs[0]!.name)!;
  const got = (await engine.run(converted, feeds)).get(converted.graph.outputs[0]!.name)!;
  expect(got.shape).toEqual(want.shape);
  const w = want.toNumbers();
  const g = got.toNumbers();
  const difference = w.reduce((worst, v, i) => Math.max(worst, Math.abs(v - g[i]!)), 0);
  const scale = w.reduce((peak, v) => Math.max(peak, Math.abs(v)), 0);
  return { quantized, converted, difference, scale, diagnostics };
}

/** The int8 rows behind the FULLY_CONNECTED's DEQUANTIZE. */
function int8Rows(converted: Model): TensorType {
  const dequantize = converted.graph.nodeList().find((node) => node.op === 'tflite.DEQUANTIZE');
  expect(dequantize, 'a DEQUANTIZE of the weight').toBeDefined();
  return dequantize!.inputs[0]!.type as TensorType;
}

describe('legalize-tflite: MatMulNBits', () => {
  it('bits=4 block 16, asymmetric (packed zero points): int8 rows, one scale per (channel, block); TFLite equals ORT', async () => {
    const { converted, difference, scale, diagnostics } = await convert({ input: [3, 64], n: 24 }, 'bits=4 block-size=16');
    const rows = int8Rows(converted);
    expect(rows.dtype).toBe('int8');
    expect(rows.shape).toEqual([24 * 4, 16]);
    expect(rows.quant!.axis).toBe(0);
    expect(rows.quant!.scale).toHaveLength(96);
    expect(difference).toBeLessThanOrEqual(1e-6 * Math.max(1, scale));
    const note = diagnostics.find((d) => /MatMulNBits/.test(d.reason));
    expect(note?.severity).toBe('info');
    expect(note?.reason).toMatch(/stored as int8 behind a DEQUANTIZE.*1536 bytes instead of 768/);
  });

  it('symmetric (no zero points), K not a multiple of the block (SLICE), rank-3 A with a symbolic batch', async () => {
    const { converted, difference, scale } = await convert({ input: ['batch', 5, 40], n: 12 }, 'bits=4 block-size=16 symmetric=true');
    expect(converted.graph.nodeList().map((node) => node.op)).toContain('tflite.SLICE');
    expect(int8Rows(converted).shape).toEqual([12 * 3, 16]);
    expect(difference).toBeLessThanOrEqual(1e-6 * Math.max(1, scale));
  });

  it('Gemm with a bias (block 32) and bits=8 format=matmulnbits', async () => {
    for (const options of ['bits=4 block-size=32', 'bits=8 block-size=16 format=matmulnbits']) {
      const { converted, difference, scale } = await convert({ input: [4, 96], n: 20, gemm: true }, options);
      const rows = int8Rows(converted);
      expect(rows.dtype).toBe('int8');
      // 8-bit codes reach 255 away from a zero point: those rows are stored uint8-shifted, with zero points z − 128.
      if (options.startsWith('bits=8')) expect(rows.quant!.zeroPoint.some((z) => z !== 0)).toBe(true);
      else expect(rows.quant!.zeroPoint.every((z) => z === 0)).toBe(true);
      expect(difference, options).toBeLessThanOrEqual(1e-6 * Math.max(1, scale));
    }
  });

  it('HQQ (fractional zero points): float32 weights equal to ORT dequantized ones, with a warning naming the node and the size', async () => {
    const { converted, difference, scale, diagnostics } = await convert({ input: [2, 64], n: 16 }, 'bits=4 block-size=16 method=hqq');
    expect(converted.graph.nodeList().some((node) => node.op === 'tflite.DEQUANTIZE')).toBe(false);
    expect(difference).toBeLessThanOrEqual(1e-6 * Math.max(1, scale));
    const warning = diagnostics.find((d) => d.severity === 'warning' && /MatMulNBits/.test(d.reason));
    expect(warning?.reason).toMatch(/fractional zero points.*stored as float32.*4096 bytes instead of 512/);
  });

  it('accuracy_level=4: TFLite computes in float32 and equals ORT at accuracy_level=0; a note says why ORT at 4 differs', async () => {
    const { quantized, converted, diagnostics } = await convert({ input: [4, 256], n: 32 }, 'bits=4 block-size=32 accuracy-level=4');
    expect(diagnostics.find((d) => /accuracy_level=4/.test(d.reason))?.reason).toMatch(/rounds A to int8 blocks/);
    for (const node of quantized.graph.nodeList()) if (node.op === 'com.microsoft.MatMulNBits') node.setAttribute('accuracy_level', attrs.int(0));
    const feeds = feedsFor(quantized, 7, [-2, 2]);
    const want = (await runOrt(quantized, feeds)).get(quantized.graph.outputs[0]!.name)!.toNumbers();
    const got = (await engine.run(converted, feeds)).get(converted.graph.outputs[0]!.name)!.toNumbers();
    const scale = want.reduce((peak, v) => Math.max(peak, Math.abs(v)), 0);
    expect(want.reduce((worst, v, i) => Math.max(worst, Math.abs(v - got[i]!)), 0)).toBeLessThanOrEqual(1e-6 * Math.max(1, scale));
  });

  it('the weights TFLite multiplies by are the ones ORT dequantizes, bit for bit (A = identity: Y = Wᵀ)', async () => {
    for (const options of ['bits=4 block-size=16', 'bits=4 block-size=32 symmetric=true', 'bits=8 block-size=16 format=matmulnbits', 'bits=4 block-size=16 method=hqq']) {
      const testCase: LinearCase = { input: [48, 48], n: 24 };
      const quantized = linearModel(testCase);
      await run(quantized, `quantize-weights{${options}}`);
      const converted = linearModel(testCase);
      await run(converted, `quantize-weights{${options}},legalize-tflite`);
      const identity = Tensor.fromValues('float32', [48, 48], Array.from({ length: 48 * 48 }, (_, i) => (i % 49 === 0 ? 1 : 0)));
      const want = (await runOrt(quantized, { x: identity })).get(quantized.graph.outputs[0]!.name)!.toNumbers();
      const got = (await engine.run(converted, { x: identity })).get(converted.graph.outputs[0]!.name)!.toNumbers();
      expect(got, options).toEqual(want);
    }
  });

  it('the int8 file is about a third of the float32 one (a byte per weight, a scale and an int64 zero point per row of 32)', async () => {
    const int8 = await convert({ input: [1, 256], n: 64 }, 'bits=4 block-size=32');
    const float = linearModel({ input: [1, 256], n: 64 });
    await run(float, 'legalize-tflite');
    expect(encodeTflite(int8.converted).byteLength).toBeLessThan(0.4 * encodeTflite(float).byteLength);
  });

  it('g_idx is refused by node, naming the input', async () => {
    const model = linearModel({ input: [2, 32], n: 8 });
    await run(model, 'quantize-weights{bits=4 block-size=16}');
    const node = model.graph.nodeList().find((candidate) => candidate.op === 'com.microsoft.MatMulNBits')!;
    node.setInput(4, model.graph.addConstant('g_idx', Tensor.fromValues('int32', [32], new Array<number>(32).fill(0))));
    const error = await run(model, 'legalize-tflite').then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as Error).message).toMatch(/MatMulNBits/);
    expect((error as Error).message).toMatch(/g_idx/);
  });
});

/** ids (int64 input [2, 5]) → Gather of a seeded [64, 48] float table → Relu: quantize-weights makes the Gather a GatherBlockQuantized. */
function embeddingModel(): Model {
  const b = new GraphBuilder();
  const ids = b.input('ids', tensorType('int64', [2, 5]));
  const table = b.constant(seededTensor([64, 48], 103, -1, 0.7), 'table');
  b.output(b.op1('onnx.Relu', [b.op1('onnx.Gather', [table, ids], { axis: attrs.int(0) })]));
  const model = b.model({ onnx: 17 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

describe('legalize-tflite: GatherBlockQuantized (quantize-weights{bits=4} embedding tables)', () => {
  it('int8 rows behind a DEQUANTIZE (block 16, block 32 with a partial last block, HQQ), then GATHER: TFLite equals ORT bit for bit, negative ids included; a note gives the bytes', async () => {
    // Tables are quantized with integer zero points (HQQ's too), so every one becomes int8 rows.
    for (const options of ['bits=4 block-size=16', 'bits=4 block-size=32 symmetric=true', 'bits=4 block-size=16 method=hqq']) {
      const quantized = embeddingModel();
      await run(quantized, `quantize-weights{${options}}`);
      expect(quantized.graph.nodeList().map((node) => node.op)).toContain('com.microsoft.GatherBlockQuantized');
      const converted = embeddingModel();
      const diagnostics = await run(converted, `quantize-weights{${options}},legalize-tflite`);
      const ops = converted.graph.nodeList().map((node) => node.op);
      expect(ops.filter((op) => !op.startsWith('tflite.'))).toEqual([]);
      expect(ops).toContain('tflite.DEQUANTIZE');
      expect(diagnostics.find((d) => /GatherBlockQuantized/.test(d.reason))?.reason, options).toMatch(/stored as int8 behind a DEQUANTIZE.*(3072|4096) bytes instead of 1536/);
      const ids = Tensor.fromValues('int64', [2, 5], [0n, 63n, 5n, 17n, 5n, -1n, 40n, -64n, 2n, 33n]);
      const want = (await runOrt(quantized, { ids })).get(quantized.graph.outputs[0]!.name)!;
      const got = (await engine.run(converted, { ids })).get(converted.graph.outputs[0]!.name)!;
      expect(got.shape).toEqual(want.shape);
      expect(got.toNumbers(), options).toEqual(want.toNumbers());
    }
  });
});
