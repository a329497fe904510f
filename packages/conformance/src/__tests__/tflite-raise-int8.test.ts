/**
 * raise-tflite on full-integer TFLite files (issue 12, QA finding s5 #2): modelpass's own int8 files
 * of the fashion fixtures (quantize-static → legalize-tflite) and of a torchvision net go back to ONNX
 * as QDQ (QuantizeLinear/DequantizeLinear around float ops, int8 weights behind DequantizeLinear,
 * int32 biases), which ONNX's checker accepts and ONNX Runtime runs. The referees: the TFLite 2.9
 * runtime on the .tflite against ORT on the raised model — the integers of the last quantized tensor
 * within one quantization step on 64 test images (measured: 0.1–17.5% of the codes differ, by exactly
 * one), and top-1 accuracy on the first 1,000 Fashion-MNIST test images: TFLite's integer kernels round
 * differently from ORT's QDQ in float, so the raised model reproduces the ORT int8 model (within 0.1 pp)
 * and the TFLite file within 0.3 pp (measured: equal for three, fashion-resnet 88.4% vs 88.6%).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Graph, Model, Tensor, tensorType, type TensorType } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx, readOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassManager } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { disposeSharedOrtRunner, evaluateAccuracy, loadDataset, runOrt, TfliteEngine } from '@modelpass/runtime';
import { encodeTflite, raiseFromTflite, readTflite, writeTflite } from '@modelpass/tflite';
import { runOnnxChecker } from '../onnx-checker.js';
import { seededTensor } from './tflite-legalize-harness.js';
import { PROJECT_MODELS_DIR } from '../real-models.js';

const workDir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-raise-int8-'));
afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
  return disposeSharedOrtRunner();
});

const QUANTIZE = 'simplify,quantize-static{dataset=fashion-mnist:train samples=512}';
const test1000 = loadDataset('fashion-mnist:test', { limit: 1000 });
const BATCH = 64;

async function int8Tflite(id: string): Promise<{ int8Onnx: Model; file: string }> {
  const int8Onnx = readOnnx(`${PROJECT_MODELS_DIR}/${id}/model.onnx`);
  await new PassManager({ environment: builtinEnvironment() }).run(int8Onnx, QUANTIZE);
  const converted = decodeOnnx(encodeOnnx(int8Onnx));
  await new PassManager({ environment: builtinEnvironment() }).run(converted, 'legalize-tflite');
  const file = join(workDir, `${id}.int8.tflite`);
  writeTflite(converted, file);
  return { int8Onnx, file };
}

/** The last quantized activation the model dequantizes (its integers are compared in both runtimes), made a graph output too. */
function exposeLastQuantized(tflite: Model): string {
  const dequantize = tflite.graph.nodeList().filter((node) => node.op === 'tflite.DEQUANTIZE' && !node.inputs[0]!.isConstant).at(-1)!;
  const integers = dequantize.input(0);
  tflite.graph.setOutputs([...tflite.graph.outputs, integers]);
  return integers.name;
}

/** The first test images as the model takes them: float32 pixels / 255. */
function firstBatch(model: Model): Tensor {
  const input = model.graph.inputs[0]!.type as TensorType;
  const shape = [BATCH, ...input.shape!.slice(1).map((d) => d as number)];
  const pixels = test1000.samples.bytes().subarray(0, shape.reduce((n, d) => n * d, 1));
  return Tensor.fromValues('float32', shape, Array.from(pixels, (v) => v / 255));
}

describe('raise-tflite: int8 TFLite of the fashion fixtures → ONNX QDQ → ORT agrees with the TFLite runtime', () => {
  for (const id of ['fashion-cnn', 'fashion-mlp', 'fashion-resnet', 'fashion-transformer']) {
    it(id, async () => {
      const { int8Onnx, file } = await int8Tflite(id);
      const tflite = readTflite(file);
      const raised = readTflite(file);
      const integers = exposeLastQuantized(tflite);
      exposeLastQuantized(raised);
      const result = raiseFromTflite(raised, createOpRegistry());
      expect(result.quantizeInserted).toBeGreaterThan(0);
      const ops = raised.graph.nodeList().map((node) => node.op);
      expect(ops.some((op) => op.startsWith('tflite.'))).toBe(false);
      expect(ops).toContain('onnx.QuantizeLinear');
      // Weights of int8 convolutions stay int8 behind a DequantizeLinear (the QDQ form ORT fuses into integer kernels).
      const int8Convs = raised.graph.nodeList().filter((n) => n.op === 'onnx.Conv' && n.inputs[0]!.producer?.op === 'onnx.DequantizeLinear');
      if (id !== 'fashion-transformer') expect(int8Convs.length).toBeGreaterThan(0);
      for (const node of int8Convs) {
        expect(node.inputs[1]!.producer?.op).toBe('onnx.DequantizeLinear');
        expect((node.inputs[1]!.producer!.inputs[0]!.type as TensorType).dtype).toBe('int8');
      }
      const onnxFile = join(workDir, `${id}.back.onnx`);
      writeFileSync(onnxFile, encodeOnnx(raised));
      expect(runOnnxChecker([onnxFile]).get(onnxFile)).toBeNull();

      const x = firstBatch(tflite);
      const inputName = tflite.graph.inputs[0]!.name;
      const expected = await new TfliteEngine().run(encodeTflite(tflite), { [inputName]: x });
      const actual = await runOrt(raised, { [raised.graph.inputs[0]!.name]: x });
      // The last quantized tensor: ONNX Runtime's integers (QDQ in float, rounded half to even) within one step of TFLite's.
      const [tfliteCodes, ortCodes] = [expected.get(integers)!.toNumbers(), actual.get(integers)!.toNumbers()];
      expect(ortCodes).toHaveLength(tfliteCodes.length);
      const steps = Math.max(...tfliteCodes.map((v, i) => Math.abs(v - ortCodes[i]!)));
      const differing = tfliteCodes.filter((v, i) => v !== ortCodes[i]).length / tfliteCodes.length;
      // The float logits after it.
      const [tfliteLogits, ortLogits] = [[...expected.values()][0]!.toNumbers(), [...actual.values()][0]!.toNumbers()];
      const worst = Math.max(...tfliteLogits.map((v, i) => Math.abs(v - ortLogits[i]!)));
      if (process.env.TFLITE_FIGURES) {
        console.log(`FIGURES ${id}: last quantized tensor '${integers}': max ${steps} step(s), ${(100 * differing).toFixed(2)}% of codes differ; logits max |tflite - raised| ${worst} over ${BATCH} images`);
      }
      expect(steps).toBeLessThanOrEqual(1);

      const accuracy = {
        tflite: (await evaluateAccuracy(file, test1000, { engine: 'tflite' })).accuracy,
        raised: (await evaluateAccuracy(raised, test1000, { engine: 'ort' })).accuracy,
        ortInt8: (await evaluateAccuracy(int8Onnx, test1000, { engine: 'ort' })).accuracy,
      };
      if (process.env.TFLITE_FIGURES) console.log(`FIGURES ${id}: accuracy tflite ${accuracy.tflite} raised ${accuracy.raised} ort-int8 ${accuracy.ortInt8}`);
      expect(Math.abs(accuracy.raised - accuracy.ortInt8)).toBeLessThanOrEqual(0.001);
      expect(Math.abs(accuracy.raised - accuracy.tflite)).toBeLessThanOrEqual(0.003);
    }, 120_000);
  }
});


/** Runs the .tflite bytes in TFLite 2.9 and the raised model in ORT on the same feeds. */
async function bothRuntimes(tfliteModel: Model, feeds: Record<string, Tensor>, checker = true): Promise<{ tflite: Map<string, Tensor>; ort: Map<string, Tensor>; raised: Model }> {
  const bytes = encodeTflite(tfliteModel);
  const file = join(workDir, `model-${Math.random().toString(36).slice(2)}.tflite`);
  writeFileSync(file, bytes);
  const raised = readTflite(file);
  raiseFromTflite(raised, createOpRegistry());
  const onnxFile = `${file}.onnx`;
  writeFileSync(onnxFile, encodeOnnx(raised));
  if (checker) expect(runOnnxChecker([onnxFile]).get(onnxFile)).toBeNull();
  return { tflite: await new TfliteEngine().run(bytes, feeds), ort: await runOrt(raised, feeds), raised };
}

function maxCodeDifference(a: Tensor, b: Tensor): number {
  const [x, y] = [a.toNumbers(), b.toNumbers()];
  expect(y).toHaveLength(x.length);
  return Math.max(...x.map((v, i) => Math.abs(v - y[i]!)));
}

describe('raise-tflite: hand-built quantized TFLite models, integers within one step in both runtimes', () => {
  it('uint8 CONV_2D (per-tensor uint8 filter with a zero point, int32 bias, RELU fused), uint8 graph input and output', async () => {
    const graph = new Graph('main');
    const xq = { scale: [Math.fround(0.05)], zeroPoint: [128], bits: 8 };
    const wq = { scale: [Math.fround(0.02)], zeroPoint: [120], bits: 8 };
    const yq = { scale: [Math.fround(0.1)], zeroPoint: [3], bits: 8 };
    const x = graph.addInput('x', tensorType('uint8', [1, 5, 5, 3], xq));
    const filter = graph.addConstant('filter', Tensor.fromValues('uint8', [4, 3, 3, 3], Array.from({ length: 108 }, (_, i) => (i * 53) % 256), wq));
    const bias = graph.addConstant('bias', Tensor.fromValues('int32', [4], [300, -200, 0, 50], { scale: [Math.fround(0.05 * 0.02)], zeroPoint: [0], bits: 32 }));
    const conv = graph.createNode({
      op: 'tflite.CONV_2D',
      inputs: [x, filter, bias],
      outputs: [{ name: 'y', type: tensorType('uint8', [1, 5, 5, 4], yq) }],
      attributes: { padding: attrs.string('SAME'), stride_w: attrs.int(1), stride_h: attrs.int(1), fused_activation_function: attrs.string('RELU') },
    });
    graph.setOutputs([conv.output(0)]);
    const model = new Model(graph);
    model.opsetImports.set('tflite', 3);
    const feeds = { x: Tensor.fromValues('uint8', [1, 5, 5, 3], Array.from({ length: 75 }, (_, i) => (i * 97) % 256)) };
    const { tflite, ort, raised } = await bothRuntimes(model, feeds);
    expect(raised.graph.nodeList().map((n) => n.op)).toEqual(expect.arrayContaining(['onnx.DequantizeLinear', 'onnx.Conv', 'onnx.Relu', 'onnx.QuantizeLinear']));
    expect((raised.graph.outputs[0]!.type as TensorType).dtype).toBe('uint8');
    expect(maxCodeDifference(tflite.get('y')!, ort.get('y')!)).toBeLessThanOrEqual(1);
  });

  it('int8 per-channel DEPTHWISE_CONV_2D → int8 AVERAGE_POOL_2D → int8 requantizing QUANTIZE → DEQUANTIZE, float input', async () => {
    const graph = new Graph('main');
    const aq = { scale: [Math.fround(0.03)], zeroPoint: [-5], bits: 8 };
    const bq = { scale: [Math.fround(0.07)], zeroPoint: [2], bits: 8 };
    const cq = { scale: [Math.fround(0.05)], zeroPoint: [0], bits: 8 };
    const wScales = [0.01, 0.02, 0.015].map(Math.fround);
    const x = graph.addInput('x', tensorType('float32', [1, 6, 6, 3]));
    const q = graph.createNode({ op: 'tflite.QUANTIZE', inputs: [x], outputs: [{ name: 'xq', type: tensorType('int8', [1, 6, 6, 3], aq) }] });
    const filter = graph.addConstant('dw', Tensor.fromValues('int8', [1, 3, 3, 3], Array.from({ length: 27 }, (_, i) => ((i * 41) % 255) - 127), { scale: wScales, zeroPoint: [0, 0, 0], axis: 3, bits: 8 }));
    const bias = graph.addConstant('dwb', Tensor.fromValues('int32', [3], [10, -20, 30], { scale: wScales.map((s) => Math.fround(s * aq.scale[0]!)), zeroPoint: [0, 0, 0], axis: 0, bits: 32 }));
    const dw = graph.createNode({
      op: 'tflite.DEPTHWISE_CONV_2D',
      inputs: [q.output(0), filter, bias],
      outputs: [{ name: 'dwo', type: tensorType('int8', [1, 6, 6, 3], bq) }],
      attributes: { padding: attrs.string('SAME'), stride_w: attrs.int(1), stride_h: attrs.int(1), depth_multiplier: attrs.int(1), fused_activation_function: attrs.string('RELU6') },
    });
    const pool = graph.createNode({
      op: 'tflite.AVERAGE_POOL_2D',
      inputs: [dw.output(0)],
      outputs: [{ name: 'pooled', type: tensorType('int8', [1, 3, 3, 3], bq) }],
      attributes: { padding: attrs.string('VALID'), stride_w: attrs.int(2), stride_h: attrs.int(2), filter_width: attrs.int(2), filter_height: attrs.int(2), fused_activation_function: attrs.string('NONE') },
    });
    const requantized = graph.createNode({ op: 'tflite.QUANTIZE', inputs: [pool.output(0)], outputs: [{ name: 'requantized', type: tensorType('int8', [1, 3, 3, 3], cq) }] });
    const dq = graph.createNode({ op: 'tflite.DEQUANTIZE', inputs: [requantized.output(0)], outputs: [{ name: 'y', type: tensorType('float32', [1, 3, 3, 3]) }] });
    graph.setOutputs([dq.output(0), requantized.output(0)]);
    const model = new Model(graph);
    model.opsetImports.set('tflite', 3);
    const feeds = { x: Tensor.fromValues('float32', [1, 6, 6, 3], Array.from({ length: 108 }, (_, i) => Math.sin(i) * 3)) };
    const { tflite, ort } = await bothRuntimes(model, feeds);
    expect(maxCodeDifference(tflite.get('requantized')!, ort.get('requantized')!)).toBeLessThanOrEqual(1);
    const [a, b] = [tflite.get('y')!.toNumbers(), ort.get('y')!.toNumbers()];
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!)))).toBeLessThanOrEqual(cq.scale[0]! * 1.0001);
  });

  // tfjs-tflite-node takes no float16 graph input ("'kTfLiteFloat16' is not yet supported") and TFLite 2.9 cannot make one
  // (its CAST takes no float16), so the referee is the float16 values themselves, exactly representable in float32.
  it('DEQUANTIZE of a float16 activation → Cast: exactly the float16 values in float32 (ORT)', async () => {
    const graph = new Graph('main');
    const x = graph.addInput('x', tensorType('float16', [2, 3]));
    const dq = graph.createNode({ op: 'tflite.DEQUANTIZE', inputs: [x], outputs: [{ name: 'y', type: tensorType('float32', [2, 3]) }] });
    graph.setOutputs([dq.output(0)]);
    const model = new Model(graph);
    model.opsetImports.set('tflite', 3);
    const feeds = { x: Tensor.fromValues('float16', [2, 3], [0.5, -1.25, 3.1, 65504, -0.0001, 7]) };
    const raised = model;
    raiseFromTflite(raised, createOpRegistry());
    expect(raised.graph.nodeList().map((n) => n.op)).toEqual(['onnx.Cast']);
    expect((await runOrt(raised, feeds)).get('y')!.toNumbers()).toEqual(feeds.x.toNumbers());
  });

  // s18: legalize's int8 tables (quantized/unary-table-int8.ts: CAST of the codes → FLOOR_MOD → GATHER) came back as a Cast
  // of the reals, so a .tflite → .onnx of an int8 MobileNet v3 lost its HardSwishes (cosine −0.016 against TFLite 2.9).
  it('CAST of an int8 activation converts its stored integers (TFLite) — raised, ORT gives the same int32 codes', async () => {
    const graph = new Graph('main');
    const xq = { scale: [Math.fround(0.037)], zeroPoint: [-5], bits: 8 };
    const x = graph.addInput('x', tensorType('int8', [2, 128], xq));
    const cast = graph.createNode({ op: 'tflite.CAST', name: 'codes', inputs: [x], outputs: [{ name: 'y', type: tensorType('int32', [2, 128]) }] });
    graph.setOutputs([cast.output(0)]);
    const model = new Model(graph);
    model.opsetImports.set('tflite', 3);
    const feeds = { x: Tensor.fromValues('int8', [2, 128], Array.from({ length: 256 }, (_, i) => i - 128)) };
    const { tflite, ort } = await bothRuntimes(model, feeds);
    expect(tflite.get('y')!.toNumbers()).toEqual(feeds.x.toNumbers());
    expect(ort.get('y')!.toNumbers()).toEqual(feeds.x.toNumbers());
  });

  it('int16 activations (16x8 FULLY_CONNECTED, per-tensor int8 weights, int64 bias; ADD): raised at opset 21, the int64 bias as float32', async () => {
    const graph = new Graph('main');
    const xq = { scale: [Math.fround(1 / 1024)], zeroPoint: [0], bits: 16 };
    const yq = { scale: [Math.fround(1 / 512)], zeroPoint: [0], bits: 16 };
    const wq = { scale: [Math.fround(0.01)], zeroPoint: [0], bits: 8 };
    const x = graph.addInput('x', tensorType('int16', [2, 4], xq));
    const w = graph.addConstant('w', Tensor.fromValues('int8', [2, 4], [10, -20, 30, -40, 50, 60, -70, 80], wq));
    const bias = graph.addConstant('b', Tensor.fromValues('int64', [2], [1000n, -2000n], { scale: [Math.fround(wq.scale[0]! * xq.scale[0]!)], zeroPoint: [0], bits: 64 }));
    const fc = graph.createNode({ op: 'tflite.FULLY_CONNECTED', inputs: [x, w, bias], outputs: [{ name: 'fc', type: tensorType('int16', [2, 2], yq) }], attributes: { fused_activation_function: attrs.string('NONE') } });
    const add = graph.createNode({ op: 'tflite.ADD', inputs: [fc.output(0), fc.output(0)], outputs: [{ name: 'y', type: tensorType('int16', [2, 2], yq) }], attributes: { fused_activation_function: attrs.string('NONE') } });
    graph.setOutputs([add.output(0)]);
    const model = new Model(graph);
    model.opsetImports.set('tflite', 3);
    const feeds = { x: Tensor.fromValues('int16', [2, 4], [1000, -2000, 3000, -4000, 500, 600, -700, 800]) };
    // Debian's onnx 1.12 checker knows opsets up to 17, so ORT (which runs opset 21) is the referee here.
    const { tflite, ort, raised } = await bothRuntimes(model, feeds, false);
    expect(raised.opsetImports.get('onnx')).toBe(21);
    expect(maxCodeDifference(tflite.get('y')!, ort.get('y')!)).toBeLessThanOrEqual(1);
  });
});

describe('raise-tflite: int8 TFLite of a torchvision net', () => {
  it('mobilenet_v3_small 64×64 (tools/fixtures/make_torchvision.py): ONNX QDQ with no transpose inside, logits cosine ≥ 0.999 and same top-1 as TFLite 2.9 on 8 seeded inputs', async () => {
    const root = fileURLToPath(new URL('../../../../', import.meta.url));
    const cache = join(root, '.fixtures-cache', 'torchvision-64');
    execFileSync('/usr/bin/python3', [join(root, 'tools/fixtures/make_torchvision.py'), 'mobilenet_v3_small', '--size', '64', '--out', cache], { stdio: 'pipe' });
    const int8Onnx = readOnnx(join(cache, 'mobilenet_v3_small.onnx'));
    await new PassManager({ environment: builtinEnvironment() }).run(int8Onnx, 'simplify,quantize-static{samples=16 min-conv-reduction=0}');
    const converted = decodeOnnx(encodeOnnx(int8Onnx));
    await new PassManager({ environment: builtinEnvironment() }).run(converted, 'legalize-tflite');
    const file = join(workDir, 'mobilenet_v3_small.int8.tflite');
    writeTflite(converted, file);
    const raised = readTflite(file);
    const result = raiseFromTflite(raised, createOpRegistry());
    expect(result.transposes.inner).toBe(0);
    const onnxFile = join(workDir, 'mobilenet_v3_small.back.onnx');
    writeFileSync(onnxFile, encodeOnnx(raised));
    expect(runOnnxChecker([onnxFile]).get(onnxFile)).toBeNull();
    const input = raised.graph.inputs[0]!;
    const shape = (input.type as TensorType).shape!.map((d) => (typeof d === 'number' ? d : 1));
    const bytes = encodeTflite(readTflite(file));
    for (let seed = 0; seed < 8; seed++) {
      const x = seededTensor(shape, 200 + seed, -2, 2);
      const a = [...(await new TfliteEngine().run(bytes, { [input.name]: x })).values()][0]!.toNumbers();
      const b = [...(await runOrt(raised, { [input.name]: x })).values()][0]!.toNumbers();
      const dot = a.reduce((s, v, k) => s + v * b[k]!, 0);
      const cosine = dot / Math.sqrt(a.reduce((s, v) => s + v * v, 0) * b.reduce((s, v) => s + v * v, 0));
      expect(cosine).toBeGreaterThanOrEqual(0.999);
      expect(a.indexOf(Math.max(...a))).toBe(b.indexOf(Math.max(...b)));
    }
  }, 180_000);
});

describe('the CLI on an int8 .tflite (QA finding s5 #2, as it was reported)', () => {
  // spawned from packages/cli/dist (nx builds it first: this project's test target depends on ^build).
  const cli = new URL('../../../cli/dist/bin.js', import.meta.url).pathname;
  const run = async (...args: string[]): Promise<string> => (await promisify(execFile)(process.execPath, [cli, ...args], { cwd: workDir, maxBuffer: 16 << 20 })).stdout;

  it('convert cnn.int8.tflite -o back.onnx; compare cnn.int8.tflite back.onnx agrees; inspect counts its FLOPs', async () => {
    await run('convert', `${PROJECT_MODELS_DIR}/fashion-cnn/model.onnx`, '-o', 'cli.int8.onnx', '-p', QUANTIZE);
    await run('convert', 'cli.int8.onnx', '-o', 'cli.int8.tflite');
    await run('convert', 'cli.int8.tflite', '-o', 'cli.back.onnx');
    expect(await run('compare', 'cli.int8.tflite', 'cli.back.onnx')).toMatch(/verdict: agree/);
    const summary = JSON.parse(await run('inspect', 'cli.int8.tflite', '--json')) as { flops: number; macs: number; uncounted: unknown[] };
    const onnx = JSON.parse(await run('inspect', 'cli.int8.onnx', '--json')) as { macs: number };
    expect(summary.uncounted).toEqual([]);
    expect(summary.macs).toBe(onnx.macs);
    expect(summary.flops).toBeGreaterThan(0);
  }, 120_000);
});
