/**
 * Full-integer TFLite export of quantize-static (QDQ) models, judged by the two runtimes: the
 * fashion-cnn, fashion-mlp and fashion-transformer int8 models become int8 TFLite (per-channel int8 filters, int32
 * biases, int8 activations, QUANTIZE/DEQUANTIZE at the edges) whose top-1 accuracy in the TFLite 2.9
 * runtime stays within 0.3 pp of the ORT int8 model on the first 1,000 Fashion-MNIST test images
 * (the full 10k run is tools/bench/tflite/int8.mjs); every quantized intermediate tensor is within one
 * quantization step of ORT's integers; io-type=int8 takes the integers as they are; what TFLite's int8
 * kernels cannot take is reported per node before anything is written.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, isTensorType, ModelpassError, Tensor, tensorType, type Model, type TensorType } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx, readOnnx } from '@modelpass/onnx';
import { inferShapes } from '@modelpass/ops';
import { PassEnvironment, PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { disposeSharedOrtRunner, evaluateAccuracy, loadDataset, runOrt, TfliteEngine } from '@modelpass/runtime';
import { encodeTflite, readTflite, writeTflite } from '@modelpass/tflite';
import { PROJECT_MODELS_DIR } from '../real-models.js';

const workDir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-int8-'));
afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
  return disposeSharedOrtRunner();
});

/** The CLI's passes (what `modelpass convert -p …` runs): simplify, quantize-static, legalize-tflite. */
const environment = (): PassEnvironment => builtinEnvironment();

async function runPipeline(model: Model, pipeline: string): Promise<Map<string, number>> {
  const statistics = new StatisticsInstrumentation();
  await new PassManager({ environment: environment(), instrumentations: [statistics] }).run(model, pipeline);
  return new Map(statistics.get('legalize-tflite') ?? []);
}

const QUANTIZE = 'simplify,quantize-static{dataset=fashion-mnist:train samples=512}';
/** conv1 (1 input channel) quantized too, so the model quantizes its input first. */
const QUANTIZE_ALL = 'simplify,quantize-static{dataset=fashion-mnist:train samples=512 min-conv-reduction=0}';
const copyOf = (model: Model): Model => decodeOnnx(encodeOnnx(model));
const test1000 = loadDataset('fashion-mnist:test', { limit: 1000 });

/** The op and the dtype of its first input, per tflite node: `CONV_2D:int8`. */
function opsWithInputTypes(model: Model): string[] {
  return model.graph.nodeList().map((node) => `${node.op.slice('tflite.'.length)}:${(node.inputs[0]?.type as TensorType | undefined)?.dtype}`);
}

describe('int8 TFLite from quantize-static models: accuracy within 0.3 pp of the ORT int8 model (1,000 test images)', () => {
  for (const id of ['fashion-cnn', 'fashion-mlp', 'fashion-transformer']) {
    it(id, async () => {
      const int8Onnx = readOnnx(`${PROJECT_MODELS_DIR}/${id}/model.onnx`);
      await runPipeline(int8Onnx, QUANTIZE);
      const converted = copyOf(int8Onnx);
      const statistics = await runPipeline(converted, 'legalize-tflite');
      expect(statistics.get('int8-ops')).toBeGreaterThan(0);
      const file = join(workDir, `${id}.int8.tflite`);
      writeTflite(converted, file);
      const written = readTflite(file);

      // Native int8: every CONV_2D / FULLY_CONNECTED reads int8 with int8 filters quantized per output channel and int32 biases.
      const weighted = written.graph.nodeList().filter((node) => ['tflite.CONV_2D', 'tflite.DEPTHWISE_CONV_2D', 'tflite.FULLY_CONNECTED'].includes(node.op));
      const int8Weighted = weighted.filter((node) => (node.inputs[0]!.type as TensorType).dtype === 'int8');
      // The transformer's MatMuls keep float outputs (ORT's MatMulIntegerToFloat): its int8 ops are the attention's BATCH_MATMULs.
      if (id === 'fashion-transformer') expect(opsWithInputTypes(written)).toContain('BATCH_MATMUL:int8');
      else expect(int8Weighted.length).toBeGreaterThan(0);
      for (const node of int8Weighted) {
        const filter = node.inputs[1]!.type as TensorType;
        expect(filter.dtype).toBe('int8');
        expect(filter.quant!.zeroPoint.every((z) => z === 0)).toBe(true);
        if (filter.quant!.axis !== undefined) expect(filter.quant!.axis).toBe(node.op === 'tflite.DEPTHWISE_CONV_2D' ? 3 : 0);
        const bias = node.inputs[2]!.type as TensorType;
        expect(bias.dtype).toBe('int32');
        const inputScale = (node.inputs[0]!.type as TensorType).quant!.scale[0]!;
        bias.quant!.scale.forEach((scale, c) => {
          const product = inputScale * filter.quant!.scale[filter.quant!.axis === undefined ? 0 : c]!;
          expect(Math.abs(scale - product)).toBeLessThanOrEqual(1e-6 * product); // float32 of the product
        });
        expect(node.metadata.get('tflite.version')).toBe(node.op === 'tflite.FULLY_CONNECTED' ? '4' : '3');
      }
      // Float in, float out: QUANTIZE where int8 starts, DEQUANTIZE where it ends.
      expect(opsWithInputTypes(written)).toContain('QUANTIZE:float32');
      expect(opsWithInputTypes(written)).toContain('DEQUANTIZE:int8');

      const ort = await evaluateAccuracy(int8Onnx, test1000, { engine: 'ort' });
      const tflite = await evaluateAccuracy(file, test1000, { engine: 'tflite' });
      expect(tflite.total).toBe(1000);
      expect(Math.abs(tflite.accuracy - ort.accuracy) * 100).toBeLessThanOrEqual(0.3);
      expect(ort.accuracy).toBeGreaterThan(0.8);
    }, 120_000);
  }
});

describe('int8 TFLite from the QOperator form (QLinearConv, QGemm, MaxPool/Flatten on the integers)', () => {
  it('fashion-cnn format=qoperator: int8 CONV_2D, accuracy within 0.3 pp of ORT on 1,000 test images', async () => {
    const qoperator = readOnnx(`${PROJECT_MODELS_DIR}/fashion-cnn/model.onnx`);
    await runPipeline(qoperator, 'simplify,quantize-static{dataset=fashion-mnist:train samples=512 format=qoperator min-conv-reduction=0}');
    expect(qoperator.graph.nodeList().map((node) => node.op)).toContain('onnx.QLinearConv');
    const converted = copyOf(qoperator);
    const statistics = await runPipeline(converted, 'legalize-tflite');
    expect(statistics.get('int8-ops')).toBeGreaterThanOrEqual(4);
    const file = join(workDir, 'fashion-cnn.qoperator.tflite');
    writeTflite(converted, file);
    expect(opsWithInputTypes(readTflite(file))).toEqual(expect.arrayContaining(['CONV_2D:int8', 'MAX_POOL_2D:int8']));
    const ort = await evaluateAccuracy(qoperator, test1000, { engine: 'ort' });
    const tflite = await evaluateAccuracy(file, test1000, { engine: 'tflite' });
    expect(Math.abs(tflite.accuracy - ort.accuracy) * 100).toBeLessThanOrEqual(0.3);
  }, 120_000);
});

describe('dynamic-range TFLite from quantize-dynamic (int8 weights, activations quantized on the fly)', () => {
  it('fashion-mlp: hybrid CONV_2D/FULLY_CONNECTED with int8 weights, accuracy within 0.3 pp of ORT on 1,000 test images', async () => {
    const dynamic = readOnnx(`${PROJECT_MODELS_DIR}/fashion-mlp/model.onnx`);
    await runPipeline(dynamic, 'quantize-dynamic');
    expect(dynamic.graph.nodeList().map((node) => node.op)).toContain('onnx.MatMulInteger');
    const converted = copyOf(dynamic);
    const statistics = await runPipeline(converted, 'legalize-tflite');
    expect(statistics.get('hybrid-ops')).toBe(3);
    const file = join(workDir, 'fashion-mlp.dynamic.tflite');
    writeTflite(converted, file);
    const written = readTflite(file);
    const hybrid = written.graph.nodeList().filter((node) => ['tflite.CONV_2D', 'tflite.FULLY_CONNECTED'].includes(node.op));
    expect(hybrid.map((node) => [(node.inputs[0]!.type as TensorType).dtype, (node.inputs[1]!.type as TensorType).dtype])).toEqual([
      ['float32', 'int8'],
      ['float32', 'int8'],
      ['float32', 'int8'],
    ]);
    const ort = await evaluateAccuracy(dynamic, test1000, { engine: 'ort' });
    const tflite = await evaluateAccuracy(file, test1000, { engine: 'tflite' });
    expect(Math.abs(tflite.accuracy - ort.accuracy) * 100).toBeLessThanOrEqual(0.3);
    expect(ort.accuracy).toBeGreaterThan(0.8);
  }, 120_000);
});

describe('int8 TFLite intermediate tensors match ORT integers', () => {
  it('every quantized activation of fashion-cnn is within one quantization step of ORT (uint8 − 128)', async () => {
    const int8Onnx = readOnnx(`${PROJECT_MODELS_DIR}/fashion-cnn/model.onnx`);
    await runPipeline(int8Onnx, QUANTIZE_ALL);
    // The integers each QuantizeLinear writes (uint8 in ORT) become graph outputs of both models.
    const watched = int8Onnx.graph.nodeList().filter((node) => node.op === 'onnx.QuantizeLinear').map((node) => node.output(0));
    for (const value of watched) int8Onnx.graph.addOutput(value);
    const converted = copyOf(int8Onnx);
    await runPipeline(converted, 'legalize-tflite');
    const images = loadDataset('fashion-mnist:test', { limit: 4 }).samples;
    const x = Tensor.fromValues('float32', [4, 1, 28, 28], images.toNumbers().map((v) => v / 255));
    const expected = await runOrt(int8Onnx, { input: x });
    const actual = await new TfliteEngine().run(encodeTflite(converted), { input: x });
    let compared = 0;
    for (const value of watched) {
      const ortIntegers = expected.get(value.name)!;
      const tfliteIntegers = actual.get(value.name)!;
      expect(ortIntegers.dtype).toBe('uint8');
      expect(tfliteIntegers.dtype, value.name).toBe('int8');
      expect(tfliteIntegers.shape).toEqual(ortIntegers.shape);
      const a = ortIntegers.toNumbers();
      const b = tfliteIntegers.toNumbers();
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - 128 - b[i]!));
      expect(worst, value.name).toBeLessThanOrEqual(1);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(5);
  }, 120_000);

  it('io-type=int8 takes the quantized input as int8 and gives the same logits as the float-input file', async () => {
    const int8Onnx = readOnnx(`${PROJECT_MODELS_DIR}/fashion-cnn/model.onnx`);
    await runPipeline(int8Onnx, QUANTIZE_ALL);
    const floatIo = copyOf(int8Onnx);
    await runPipeline(floatIo, 'legalize-tflite');
    const int8Io = copyOf(int8Onnx);
    await runPipeline(int8Io, 'legalize-tflite{io-type=int8}');
    const input = int8Io.graph.inputs[0]!;
    expect(isTensorType(input.type) && input.type.dtype).toBe('int8');
    const quant = (input.type as TensorType).quant!;
    expect(quant.zeroPoint).toEqual([-128]);
    expect(int8Io.graph.nodeList().some((node) => node.op === 'tflite.QUANTIZE' && node.inputs[0] === input)).toBe(false);
    const pixels = loadDataset('fashion-mnist:test', { limit: 2 }).samples.toNumbers();
    const floats = Tensor.fromValues('float32', [2, 1, 28, 28], pixels.map((v) => v / 255));
    const integers = Tensor.fromValues('int8', [2, 1, 28, 28], pixels.map((v) => Math.max(-128, Math.min(127, Math.round(v / 255 / quant.scale[0]!) + quant.zeroPoint[0]!))));
    const engine = new TfliteEngine();
    const viaFloat = (await engine.run(encodeTflite(floatIo), { input: floats })).get('logits')!;
    const viaInt8 = (await engine.run(encodeTflite(int8Io), { input: integers })).get('logits')!;
    expect(viaInt8.toNumbers()).toEqual(viaFloat.toNumbers());
  }, 120_000);
});

describe('int8 TFLite export refuses what TFLite int8 kernels cannot take, per node, before writing', () => {
  /** x → Q/DQ → Conv(DQ(w int8, zero point 3)) → Q/DQ → Exp → Q/DQ → Tanh → Q/DQ (int16) → Relu → y. */
  function badModel(): Model {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [1, 2, 4, 4]));
    const qdq = (value: ReturnType<typeof b.input>, scale: number, zeroPoint: Tensor, name: string) => {
      const s = b.constant(Tensor.scalar('float32', scale));
      const z = b.constant(zeroPoint);
      const q = b.op1('onnx.QuantizeLinear', [value, s, z], {}, { name: `${name}_q` });
      return b.op1('onnx.DequantizeLinear', [q, s, z], {}, { name: `${name}_dq` });
    };
    const xq = qdq(x, 0.02, Tensor.scalar('uint8', 128), 'x');
    const weights = b.constant(Tensor.fromValues('int8', [3, 2, 1, 1], [1, 2, 3, 4, 5, 6]));
    const w = b.op1('onnx.DequantizeLinear', [weights, b.constant(Tensor.scalar('float32', 0.1)), b.constant(Tensor.scalar('int8', 3))], {}, { name: 'w_dq' });
    const conv = b.op1('onnx.Conv', [xq, w], { kernel_shape: attrs.ints([1, 1]) }, { name: 'asymmetric_conv' });
    const convQ = qdq(conv, 0.05, Tensor.scalar('uint8', 128), 'conv');
    const exp = b.op1('onnx.Exp', [convQ], {}, { name: 'int8_exp' });
    const expQ = qdq(exp, 0.1, Tensor.scalar('uint8', 0), 'exp');
    const tanh = b.op1('onnx.Tanh', [expQ], {}, { name: 'int16_tanh' });
    const tanhQ = qdq(tanh, 0.0001, Tensor.scalar('int16', 0), 'tanh');
    b.output(b.op1('onnx.Relu', [tanhQ], {}, { name: 'relu' }));
    const model = b.model({ onnx: 21 }); // int16 QuantizeLinear needs opset 21
    inferShapes(model, { mode: 'refresh' });
    return model;
  }

  it('lists asymmetric int8 weights, an op with no int8 lowering and int16 activations, with locations', async () => {
    const model = badModel();
    const error = await runPipeline(model, 'legalize-tflite').then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(ModelpassError.is(error)).toBe(true);
    const text = (error as Error).message;
    expect(text).toMatch(/quantized node\(s\) cannot become int8 TFLite ops; nothing was written/);
    expect(text).toMatch(/asymmetric_conv.*asymmetric int8 weights \(zero point 3\)/);
    expect(text).toMatch(/int8_exp.*onnx\.Exp on quantized values has no int8 TFLite lowering/);
    expect(text).toMatch(/int16_tanh.*int16 activation/);
    expect(text).toMatch(/3 quantized node\(s\)/);
  });
});

describe('the CLI, as the issue spells it', () => {
  // spawned from packages/cli/dist (nx builds it first: this project's test target depends on ^build).
  const cli = new URL('../../../cli/dist/bin.js', import.meta.url).pathname;
  const run = async (...args: string[]): Promise<string> => (await promisify(execFile)(process.execPath, [cli, ...args], { cwd: workDir, maxBuffer: 16 << 20 })).stdout;

  it('modelpass convert model.onnx -o m.int8.onnx -p quantize-static…; convert m.int8.onnx -o m.tflite; eval both', async () => {
    await run('convert', `${PROJECT_MODELS_DIR}/fashion-cnn/model.onnx`, '-o', 'cli.int8.onnx', '-p', 'simplify,quantize-static{dataset=fashion-mnist:train samples=512}');
    await run('convert', 'cli.int8.onnx', '-o', 'cli.int8.tflite');
    const accuracy = async (file: string) => JSON.parse(await run('eval', file, '--dataset', 'fashion-mnist:test', '--limit', '500', '--json')).accuracy as number;
    const ort = await accuracy('cli.int8.onnx');
    const tflite = await accuracy('cli.int8.tflite');
    expect(Math.abs(tflite - ort) * 100).toBeLessThanOrEqual(0.3);
  }, 120_000);
});
