/**
 * Issue 12: the Fashion transformer (fixtures/models/fashion-transformer, opset 13: decomposed LayerNorm, erf-GELU,
 * Softmax, attention MatMuls) as a strict full-integer .tflite. quantize-static{full-integer=true} quantizes its
 * LayerNorms (Sub/ReduceMean own ranges, Pow → Mul, Div(a, Sqrt) → Mul(a, Reciprocal(Sqrt)) with the Reciprocal's
 * output calibrated), GELU at its input and output only, attention's scores; legalize-tflite{io-type=int8
 * full-integer=true} lowers them to int8 MEAN/SUB/MUL/RSQRT/GELU/SOFTMAX/BATCH_MATMUL (it refused 73 nodes
 * before). The file read back has int8/int32 operands only, and TFLite 2.9's logits agree with ONNX Runtime's on
 * the same QDQ model within 3 output steps on 40 real test images (2 measured), the same integers in. Also the two
 * spellings full-integer left float in conv nets: a Relu whose Conv output has other readers, torch's mean((2, 3)).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Value } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx, readOnnx } from '@modelpass/onnx';
import { datasetBatches, disposeSharedOrtRunner, loadDataset, runOrt, TfliteEngine } from '@modelpass/runtime';
import { readTflite, writeTflite } from '@modelpass/tflite';
import { seededUniform, stepsApart } from './int8-agreement.js';
import { dtypeOf, fullIntegerTflite, quantOf, runPipeline } from './full-integer-harness.js';

const DIR = mkdtempSync(join(tmpdir(), 'tflite-full-integer-transformer-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(DIR, { recursive: true, force: true });
});

const FIXTURE = new URL('../../../../fixtures/models/fashion-transformer/model.onnx', import.meta.url).pathname;

describe('fashion-transformer: quantize-static{full-integer=true} → legalize-tflite{io-type=int8 full-integer=true}', () => {
  it('int8/int32 operands only; TFLite 2.9 within 3 output steps of ORT on the QDQ model, same top-1 on 40 test images', async () => {
    const model = readOnnx(FIXTURE);
    // Batch 1 (the fixture's batch is symbolic): the shape arithmetic folds away, so no int64 SHAPE/CONCATENATION is left.
    model.graph.inputs[0]!.type = tensorType('float32', [1, 28, 28]);
    model.graph.outputs[0]!.type = tensorType('float32', [1, 10]);
    const path = join(DIR, 'transformer.tflite');
    const { qdq, written } = await fullIntegerTflite(model, 'simplify,quantize-static{dataset=fashion-mnist:train samples=64 full-integer=true}', path);

    const operands = written.nodeList().flatMap((node) => [...node.inputs, ...node.outputs].filter((v): v is Value => !!v).map((v) => `${node.op.slice(7)}:${dtypeOf(v)}`));
    expect(operands.filter((entry) => !/:(int8|int32)$/.test(entry))).toEqual([]);
    const ops = new Set(written.nodeList().map((node) => node.op.slice(7)));
    for (const op of ['MEAN', 'SUB', 'MUL', 'RSQRT', 'GELU', 'SOFTMAX', 'BATCH_MATMUL']) expect(ops, [...ops].join(' ')).toContain(op);
    // The attention's head split and merge without TRANSPOSE, as in the float conversion (head-major projections, the merge one CONV_2D).
    // QUANTIZE: none, not even after SOFTMAX (quantize-static gives its output TFLite's fixed 1/256 and zero point −128).
    for (const op of ['POW', 'SQRT', 'DIV', 'DEQUANTIZE', 'TRANSPOSE', 'QUANTIZE']) expect(ops).not.toContain(op);
    const [input] = written.inputs;
    const [output] = written.outputs;
    expect([dtypeOf(input!), dtypeOf(output!)]).toEqual(['int8', 'int8']);
    const inQuant = quantOf(input!)!;
    const outQuant = quantOf(output!)!;

    const engine = new TfliteEngine();
    const dataset = loadDataset('fashion-mnist:test', { limit: 40 });
    let worst = 0;
    let agree = 0;
    let images = 0;
    for (const batch of datasetBatches(dataset, { batchSize: 1, sampleShape: [28, 28] })) {
      // One set of integers for both runtimes: TFLite gets them, ORT their reals.
      const q = batch.input.toNumbers().map((v) => Math.max(-128, Math.min(127, Math.round(v / inQuant.scale[0]!) + inQuant.zeroPoint[0]!)));
      const x = Tensor.fromValues('float32', [1, 28, 28], q.map((v) => (v - inQuant.zeroPoint[0]!) * inQuant.scale[0]!));
      const ort = [...(await runOrt(qdq, { input: x })).values()][0]!.toNumbers();
      const tflite = [...(await engine.run(path, { input: Tensor.fromValues('int8', [1, 28, 28], q) })).values()][0]!;
      expect(tflite.dtype).toBe('int8');
      const logits = tflite.toNumbers().map((v) => (v - outQuant.zeroPoint[0]!) * outQuant.scale[0]!);
      worst = Math.max(worst, stepsApart(ort, logits, outQuant.scale[0]!));
      if (ort.indexOf(Math.max(...ort)) === logits.indexOf(Math.max(...logits))) agree++;
      images++;
    }
    expect(images).toBe(40);
    expect(worst).toBeLessThanOrEqual(3.001);
    expect(agree).toBeGreaterThanOrEqual(39);
  }, 180_000);

  it('a Relu whose Conv output has other readers and torch\'s mean((2, 3)): RELU and MEAN int8, within 2 steps of ORT', async () => {
    const b = new GraphBuilder();
    const w = (shape: number[], seed: number, span: number) => b.constant(seededUniform(shape, seed, -span / 2, span));
    const x = b.input('x', tensorType('float32', [1, 3, 8, 8]));
    const conv = b.op1('onnx.Conv', [x, w([4, 3, 3, 3], 1, 1), w([4], 2, 0.2)], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv1' });
    const sum = b.op1('onnx.Add', [b.op1('onnx.Relu', [conv], {}, { name: 'relu1' }), conv], {}, { name: 'residual' });
    const conv2 = b.op1('onnx.Conv', [sum, w([6, 4, 3, 3], 3, 0.8), w([6], 4, 0.2)], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv2' });
    const mean = b.op1('onnx.ReduceMean', [b.op1('onnx.Relu', [conv2], {}, { name: 'relu2' })], { axes: attrs.ints([2, 3]), keepdims: attrs.int(0) }, { name: 'mean' });
    b.output(b.op1('onnx.Gemm', [mean, w([5, 6], 5, 1), w([5], 6, 0.2)], { transB: attrs.int(1) }, { name: 'fc', outputs: ['logits'] }));
    const model = b.model({ onnx: 13 });
    await runPipeline(model, 'quantize-static{samples=32 seed=3 full-integer=true}');
    const qdq = encodeOnnx(model);
    const converted = decodeOnnx(qdq);
    expect((await runPipeline(converted, 'legalize-tflite{io-type=int8 full-integer=true}')).statistics.get('float-ops-in-int8-model')).toBe(0);
    const path = join(DIR, 'gaps.tflite');
    writeTflite(converted, path);
    const written = readTflite(path).graph;
    const ops = written.nodeList().map((node) => `${node.op.slice(7)}(${dtypeOf(node.inputs[0]!)})`);
    expect(ops).toContain('RELU(int8)');
    expect(ops).toContain('MEAN(int8)');
    const inQuant = quantOf(written.inputs[0]!)!;
    const outQuant = quantOf(written.outputs[0]!)!;
    const engine = new TfliteEngine();
    for (const seed of [1, 2, 3]) {
      const q = seededUniform([1, 3, 8, 8], seed, -1.5, 3).toNumbers().map((v) => Math.max(-128, Math.min(127, Math.round(v / inQuant.scale[0]!) + inQuant.zeroPoint[0]!)));
      const reals = Tensor.fromValues('float32', [1, 3, 8, 8], q.map((v) => (v - inQuant.zeroPoint[0]!) * inQuant.scale[0]!));
      const ort = (await runOrt(qdq, { x: reals })).get('logits')!.toNumbers();
      const tflite = [...(await engine.run(path, { x: Tensor.fromValues('int8', [1, 3, 8, 8], q) })).values()][0]!.toNumbers().map((v) => (v - outQuant.zeroPoint[0]!) * outQuant.scale[0]!);
      expect(stepsApart(ort, tflite, outQuant.scale[0]!), `seed ${seed}`).toBeLessThanOrEqual(2.001);
    }
  }, 120_000);

  it('quantize-static defaults (the out-projection keeps a float output): the int8 heads dequantized and merged by one CONV_2D (int8 weights kept), no TRANSPOSE left; TFLite agrees with ORT', async () => {
    const model = readOnnx(FIXTURE);
    model.graph.inputs[0]!.type = tensorType('float32', [1, 28, 28]);
    model.graph.outputs[0]!.type = tensorType('float32', [1, 10]);
    await runPipeline(model, 'simplify,quantize-static{dataset=fashion-mnist:train samples=64}');
    const qdq = encodeOnnx(model);
    const converted = decodeOnnx(qdq);
    await runPipeline(converted, 'legalize-tflite');
    const path = join(DIR, 'transformer-default.tflite');
    writeTflite(converted, path);
    const nodes = readTflite(path).graph.nodeList();
    const ops = nodes.map((node) => node.op.slice(7));
    expect(ops).not.toContain('TRANSPOSE');
    // The merge: one float CONV_2D a layer whose filter keeps the model's int8 weights behind a DEQUANTIZE.
    const convs = nodes.filter((node) => node.op === 'tflite.CONV_2D');
    expect(convs.length).toBeGreaterThanOrEqual(2);
    for (const conv of convs) expect(conv.inputs[1]?.producer?.op).toBe('tflite.DEQUANTIZE');
    const engine = new TfliteEngine();
    let worst = 0;
    let agree = 0;
    for (const batch of datasetBatches(loadDataset('fashion-mnist:test', { limit: 20 }), { batchSize: 1, sampleShape: [28, 28] })) {
      const ort = [...(await runOrt(qdq, { input: batch.input })).values()][0]!.toNumbers();
      const tflite = [...(await engine.run(path, { input: batch.input })).values()][0]!.toNumbers();
      worst = Math.max(worst, ...ort.map((v, i) => Math.abs(v - tflite[i]!)));
      if (ort.indexOf(Math.max(...ort)) === tflite.indexOf(Math.max(...tflite))) agree++;
    }
    expect(worst).toBeLessThan(0.05);
    expect(agree).toBeGreaterThanOrEqual(19);
  }, 180_000);
});
