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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, type Model, type TensorType } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx, readOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassManager } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { disposeSharedOrtRunner, evaluateAccuracy, loadDataset, runOrt, TfliteEngine } from '@modelpass/runtime';
import { encodeTflite, raiseFromTflite, readTflite, writeTflite } from '@modelpass/tflite';
import { runOnnxChecker } from '../onnx-checker.js';
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

