/**
 * s17 issue 12 item 2: the default (not full-integer) int8 Fashion transformer. quantize-static keeps the attention
 * projections float-out (MatMul over DequantizeLinear'd per-channel int8 weights), so legalize-tflite's float head
 * split builds the head-major q/k/v weights [H, Ein, hd] from the dequantized reals — and stored them float32 (a
 * 187 KiB .tflite where the weights are int8 in the ONNX model). Each column (h, j) of such a weight has its own scale,
 * over two axes, which TFLite's per-axis quantization cannot say: the integers are now stored int8 (scale 1) behind a
 * DEQUANTIZE times the column scales [H, 1, hd] (q · s rounded once to float32, as DequantizeLinear computes it), and
 * the position table the float ADD reads (per-tensor int8) behind a DEQUANTIZE. Referee: ONNX Runtime on the QDQ
 * model vs TFLite 2.9 on the .tflite, on Fashion-MNIST test images.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, type Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx, readOnnx } from '@modelpass/onnx';
import { PassManager } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { datasetBatches, disposeSharedOrtRunner, evaluateAccuracy, loadDataset, runOrt, TfliteEngine } from '@modelpass/runtime';
import { readTflite, writeTflite } from '@modelpass/tflite';
import { PROJECT_MODELS_DIR } from '../real-models.js';

const workDir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-int8-transformer-weights-'));
afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
  return disposeSharedOrtRunner();
});

async function runPipeline(model: Model, pipeline: string): Promise<void> {
  await new PassManager({ environment: builtinEnvironment() }).run(model, pipeline);
}

describe('default int8 transformer → TFLite: the float head split keeps int8 weights', () => {
  it('fashion-transformer quantize-static: no float32 constant of 1,024+ values, file under 0.4× the float .tflite, TFLite agrees with ORT', async () => {
    const float = readOnnx(`${PROJECT_MODELS_DIR}/fashion-transformer/model.onnx`);
    const qdq = decodeOnnx(encodeOnnx(float));
    await runPipeline(qdq, 'simplify,quantize-static{dataset=fashion-mnist:train samples=128}');
    const floatFile = join(workDir, 'float.tflite');
    await runPipeline(float, 'legalize-tflite');
    writeTflite(float, floatFile);
    const converted = decodeOnnx(encodeOnnx(qdq));
    await runPipeline(converted, 'legalize-tflite');
    const file = join(workDir, 'int8.tflite');
    writeTflite(converted, file);

    const written = readTflite(file);
    const largeFloat = written.graph.constants.filter((value) => value.constant?.dtype === 'float32' && value.constant.size >= 1024).map((value) => value.name);
    expect(largeFloat).toEqual([]); // was the six [4, 64, 16] head weights and the [1, 28, 64] position table
    // The head-major projections read int8 integers: DEQUANTIZE → MUL by [4, 1, 16] column scales → BATCH_MATMUL.
    const headWeights = written.graph.nodeList().filter((node) => node.op === 'tflite.BATCH_MATMUL' && node.inputs[1]?.producer?.op === 'tflite.MUL');
    expect(headWeights.length).toBe(6);
    for (const node of headWeights) {
      const [integers, scales] = node.inputs[1]!.producer!.inputs.map((value) => value!.producer?.op === 'tflite.DEQUANTIZE' ? value!.producer.inputs[0]! : value!);
      expect(integers!.constant?.dtype).toBe('int8');
      expect(scales!.constant?.shape).toEqual([4, 1, 16]);
    }
    expect(statSync(file).size).toBeLessThan(0.4 * statSync(floatFile).size); // 114 KiB of 301 KiB (was 187 KiB)

    // ORT on the QDQ model vs TFLite on the file: logits of 16 test images within the int8 agreement, and accuracy on 500.
    const test = loadDataset('fashion-mnist:test', { limit: 500 });
    const engine = new TfliteEngine();
    const input = qdq.graph.inputs[0]!.name;
    const images = datasetBatches(test, { batchSize: 16 }).next().value!.input.toNumbers();
    for (let i = 0; i < 16; i++) {
      const image = Tensor.fromValues('float32', [1, 28, 28], images.slice(i * 784, (i + 1) * 784));
      const ort = [...(await runOrt(qdq, { [input]: image })).values()][0]!.toNumbers();
      const tflite = [...(await engine.run(file, { [input]: image })).values()][0]!.toNumbers();
      const worst = ort.reduce((m, v, k) => Math.max(m, Math.abs(v - tflite[k]!)), 0);
      expect(worst).toBeLessThanOrEqual(0.05);
    }
    const ortAccuracy = await evaluateAccuracy(qdq, test, { engine: 'ort' });
    const tfliteAccuracy = await evaluateAccuracy(file, test, { engine: 'tflite' });
    expect(Math.abs(tfliteAccuracy.accuracy - ortAccuracy.accuracy) * 100).toBeLessThanOrEqual(0.3);
  }, 180_000);
});
