/**
 * Issue 12's full-integer path on a small conv net (Conv → BatchNormalization → Relu → MaxPool, twice, → Flatten →
 * Gemm → logits): quantize-static{full-integer=true} then legalize-tflite{io-type=int8 full-integer=true}. The .tflite,
 * read back from the file, has int8/int32 tensors only (int8 input and output), TFLite 2.9 runs it, and its logits
 * agree with ONNX Runtime on the QDQ model within two quantization steps of the output's scale. The same net
 * quantized with quantize-static's defaults (stem Conv and logits float) is refused by name before anything is written.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType, type Model, type TensorType, type Value } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { compareModels, disposeSharedOrtRunner, evaluateAccuracy, runOrt, TfliteEngine } from '@modelpass/runtime';
import { readTflite, writeTflite } from '@modelpass/tflite';
import { seededUniform, stepsApart } from './int8-agreement.js';

afterAll(async () => {
  await disposeSharedOrtRunner();
});

const DIR = mkdtempSync(join(tmpdir(), 'tflite-full-integer-'));

function seededWeights(shape: number[], seed: number, span: number): Tensor {
  return seededUniform(shape, seed, -span / 2, span);
}

/** Conv(1→6, 3×3) → BN → Relu → MaxPool → Conv(6→8) → BN → Relu → MaxPool → Flatten → Gemm(→10). */
function convNet(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 1, 12, 12]));
  const block = (input: Value, cin: number, cout: number, name: string, seed: number): Value => {
    const conv = b.op1('onnx.Conv', [input, b.constant(seededWeights([cout, cin, 3, 3], seed, 1.2), `${name}_w`), b.constant(seededWeights([cout], seed + 1, 0.2), `${name}_b`)], { pads: attrs.ints([1, 1, 1, 1]) }, { name });
    const bn = b.op1(
      'onnx.BatchNormalization',
      [conv, b.constant(seededUniform([cout], seed + 2, 0.5, 1)), b.constant(seededWeights([cout], seed + 3, 0.4)), b.constant(seededWeights([cout], seed + 4, 0.2)), b.constant(seededUniform([cout], seed + 5, 0.5, 1))],
      {},
      { name: `${name}_bn` },
    );
    const relu = b.op1('onnx.Relu', [bn], {}, { name: `${name}_relu` });
    return b.op1('onnx.MaxPool', [relu], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) }, { name: `${name}_pool` });
  };
  const h = block(block(x, 1, 6, 'conv1', 10), 6, 8, 'conv2', 20);
  const flat = b.op1('onnx.Flatten', [h], { axis: attrs.int(1) }, { name: 'flatten' });
  b.output(b.op1('onnx.Gemm', [flat, b.constant(seededWeights([10, 72], 30, 0.5), 'fc_w'), b.constant(seededWeights([10], 31, 0.2), 'fc_b')], { transB: attrs.int(1) }, { name: 'fc', outputs: ['logits'] }));
  return b.model({ onnx: 13 });
}

async function run(model: Model, pipeline: string): Promise<Map<string, number>> {
  const statistics = new StatisticsInstrumentation();
  await new PassManager({ environment: builtinEnvironment(), instrumentations: [statistics] }).run(model, pipeline);
  return new Map(statistics.get(pipeline.split(/[{,]/)[0]!) ?? []);
}

const dtypeOf = (value: Value) => (value.type as TensorType).dtype;
const quantOf = (value: Value) => (value.type as TensorType).quant ?? value.constant?.quant;

describe('quantize-static{full-integer=true} → legalize-tflite{io-type=int8 full-integer=true}', () => {
  it('writes a .tflite whose every operator reads and writes int8/int32, and TFLite 2.9 agrees with ORT on the QDQ model', async () => {
    const model = convNet();
    await run(model, 'quantize-static{samples=32 seed=3 full-integer=true}');
    const qdq = encodeOnnx(model);

    const converted = decodeOnnx(qdq);
    const statistics = await run(converted, 'legalize-tflite{io-type=int8 full-integer=true}');
    expect(statistics.get('float-ops-in-int8-model')).toBe(0);
    const path = join(DIR, 'net.tflite');
    writeTflite(converted, path);
    expect(existsSync(path)).toBe(true);

    // Read back from the file: every operand of every operator is int8 or int32 (RESHAPE shapes, biases).
    const written = readTflite(path).graph;
    const operands = written.nodeList().flatMap((node) => [...node.inputs, ...node.outputs].filter((v): v is Value => !!v).map((v) => `${node.op.slice(7)}:${dtypeOf(v)}`));
    expect(operands.filter((entry) => !/:(int8|int32)$/.test(entry))).toEqual([]);
    const ops = new Set(written.nodeList().map((node) => node.op));
    expect(ops).toContain('tflite.CONV_2D');
    expect(ops).toContain('tflite.MAX_POOL_2D');
    expect(ops).not.toContain('tflite.QUANTIZE');
    expect(ops).not.toContain('tflite.DEQUANTIZE');
    const [input] = written.inputs;
    const [output] = written.outputs;
    expect([dtypeOf(input!), dtypeOf(output!)]).toEqual(['int8', 'int8']);
    const inQuant = quantOf(input!)!;
    const outQuant = quantOf(output!)!;

    const engine = new TfliteEngine();
    for (const seed of [1, 2, 3]) {
      // One set of integers for both runtimes: TFLite gets them, ORT their reals (exactly representable).
      const reals = seededUniform([1, 1, 12, 12], seed, -1.5, 3).toNumbers();
      const q = reals.map((v) => Math.max(-128, Math.min(127, Math.round(v / inQuant.scale[0]!) + inQuant.zeroPoint[0]!)));
      const x = Tensor.fromValues('float32', [1, 1, 12, 12], q.map((v) => (v - inQuant.zeroPoint[0]!) * inQuant.scale[0]!));
      const ort = (await runOrt(qdq, { x })).get('logits')!.toNumbers();
      const tflite = (await engine.run(path, { x: Tensor.fromValues('int8', [1, 1, 12, 12], q) })).get('logits')!;
      expect(tflite.dtype).toBe('int8');
      const logits = tflite.toNumbers().map((v) => (v - outQuant.zeroPoint[0]!) * outQuant.scale[0]!);
      expect(new Set(logits).size).toBeGreaterThan(3);
      expect(stepsApart(ort, logits, outQuant.scale[0]!), `seed ${seed}: ORT ${ort.join(' ')} / TFLite ${logits.join(' ')}`).toBeLessThanOrEqual(2.001);
    }

    // What `modelpass compare net.onnx net.tflite` runs: the float feed goes in as the integers the .tflite's input
    // parameters make of it, the int8 logits come back as the reals they stand for (it refused the int8 input before).
    const onnxPath = join(DIR, 'net.onnx');
    writeFileSync(onnxPath, qdq);
    const comparison = await compareModels(onnxPath, path, { seed: 4 });
    expect(comparison.engines).toEqual(['ort', 'tflite']);
    expect(comparison.layoutNotes).toEqual([
      expect.stringMatching(/^input 'x' quantized to int8 \(scale [0-9.e-]+, zero point -?\d+\) for the second model, which declares it so$/),
      expect.stringMatching(/^output 'logits' of the second model \(int8\) read as the reals it stands for \(scale [0-9.e-]+, zero point -?\d+\)$/),
    ]);
    expect(comparison.maxAbsError).toBeLessThanOrEqual(2.001 * outQuant.scale[0]!);

    // What `modelpass eval net.tflite --dataset …` runs: float samples quantized with the input's parameters (it refused
    // the int8 input before). Labels: ORT's top-1 on the QDQ model, so ORT scores 100 % and TFLite nearly so.
    const samples = seededUniform([12, 1, 12, 12], 9, -1.5, 3);
    const labels = new Int32Array(12);
    for (let i = 0; i < 12; i++) {
      const sample = Tensor.fromValues('float32', [1, 1, 12, 12], samples.toNumbers().slice(i * 144, (i + 1) * 144));
      const logits = (await runOrt(qdq, { x: sample })).get('logits')!.toNumbers();
      labels[i] = logits.indexOf(Math.max(...logits));
    }
    const accuracy = await evaluateAccuracy(path, { samples, labels, size: 12, sampleShape: [1, 12, 12] });
    expect(accuracy.total).toBe(12);
    expect(accuracy.correct).toBeGreaterThanOrEqual(11);
  }, 120_000);

  it('a token MLP ([1, 6, 16] → MatMul + bias Add → Relu → MatMul + bias Add): the bias Adds quantized, per-channel FULLY_CONNECTED on rank 3 as CONV_2D, within 2 steps of ORT', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [1, 6, 16]));
    const dense = (input: Value, k: number, n: number, name: string, seed: number) =>
      b.op1('onnx.Add', [b.op1('onnx.MatMul', [input, b.constant(seededWeights([k, n], seed, 0.8), `${name}_w`)], {}, { name: `${name}_matmul` }), b.constant(seededWeights([n], seed + 1, 0.4), `${name}_b`)], {}, { name: `${name}_bias` });
    const h = b.op1('onnx.Relu', [dense(x, 16, 12, 'fc1', 40)], {}, { name: 'relu' });
    b.output(dense(h, 12, 5, 'fc2', 50));
    const model = b.model({ onnx: 13 });
    await run(model, 'quantize-static{samples=32 seed=4 full-integer=true per-channel-min-gain=0}'); // per-channel weights everywhere: the CONV_2D spelling
    const qdq = encodeOnnx(model);
    const converted = decodeOnnx(qdq);
    await run(converted, 'legalize-tflite{io-type=int8 full-integer=true}');
    const path = join(DIR, 'tokens.tflite');
    writeTflite(converted, path);
    const written = readTflite(path).graph;
    const operands = written.nodeList().flatMap((node) => [...node.inputs, ...node.outputs].filter((v): v is Value => !!v).map((v) => `${node.op.slice(7)}:${dtypeOf(v)}`));
    expect(operands.filter((entry) => !/:(int8|int32)$/.test(entry))).toEqual([]);
    expect(written.nodeList().map((node) => node.op)).toContain('tflite.CONV_2D');
    const inQuant = quantOf(written.inputs[0]!)!;
    const outQuant = quantOf(written.outputs[0]!)!;
    const outputName = written.outputs[0]!.name;
    const engine = new TfliteEngine();
    for (const seed of [5, 6]) {
      const q = seededUniform([1, 6, 16], seed, -2, 4).toNumbers().map((v) => Math.max(-128, Math.min(127, Math.round(v / inQuant.scale[0]!) + inQuant.zeroPoint[0]!)));
      const reals = Tensor.fromValues('float32', [1, 6, 16], q.map((v) => (v - inQuant.zeroPoint[0]!) * inQuant.scale[0]!));
      const ort = (await runOrt(qdq, { x: reals })).get(outputName)!.toNumbers();
      const tflite = (await engine.run(path, { x: Tensor.fromValues('int8', [1, 6, 16], q) })).get(outputName)!;
      expect(tflite.shape).toEqual([1, 6, 5]);
      const y = tflite.toNumbers().map((v) => (v - outQuant.zeroPoint[0]!) * outQuant.scale[0]!);
      expect(new Set(y).size).toBeGreaterThan(3);
      expect(stepsApart(ort, y, outQuant.scale[0]!), `seed ${seed}`).toBeLessThanOrEqual(2.001);
    }
  }, 120_000);

  it('refuses the same net quantized with the defaults, naming the float stem Conv and the float-output Gemm', async () => {
    const model = convNet();
    await run(model, 'quantize-static{samples=32 seed=3}');
    const converted = decodeOnnx(encodeOnnx(model));
    const error = await run(converted, 'legalize-tflite{io-type=int8 full-integer=true}').then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(ModelpassError.is(error), String(error)).toBe(true);
    const reasons = (error as ModelpassError).diagnostics.map((d) => d.reason);
    expect(reasons[0]).toMatch(/full-integer=true: \d+ node\(s\) would stay float32; nothing was written/);
    expect((error as ModelpassError).diagnostics[0]!.hint).toMatch(/quantize-static\{full-integer=true\}/);
    expect(reasons).toContainEqual(expect.stringMatching(/^onnx\.Conv 'conv1' would stay float/));
    expect(reasons).toContainEqual(expect.stringMatching(/^onnx\.Gemm 'fc' would stay float: its output '.*' is float32/));
  }, 120_000);
});
