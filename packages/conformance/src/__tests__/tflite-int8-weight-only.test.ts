/**
 * Weight-only models with asymmetric weights (`quantize-weights{bits=8}`: uint8 codes with zero
 * points) become TFLite files with int8 weights: legalize-tflite re-centres each weight to
 * symmetric int8 per output channel (each weight moves by at most max|w_c|/254, about one step of
 * the original grid) and stores it behind a DEQUANTIZE. Judged on 1,000 Fashion-MNIST test images:
 * accuracy within 0.3 pp of the ORT weight-only model, and a quarter of the float file's size;
 * `asymmetric-weights=float` keeps the exact float32 weights.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Model, type TensorType } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx, readOnnx } from '@modelpass/onnx';
import { PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { disposeSharedOrtRunner, evaluateAccuracy, loadDataset } from '@modelpass/runtime';
import { encodeTflite } from '@modelpass/tflite';
import { PROJECT_MODELS_DIR } from '../real-models.js';

const workDir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-weight-only-'));
afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
  return disposeSharedOrtRunner();
});

async function run(model: Model, pipeline: string): Promise<Map<string, number>> {
  const statistics = new StatisticsInstrumentation();
  await new PassManager({ environment: builtinEnvironment(), instrumentations: [statistics] }).run(model, pipeline);
  return new Map(statistics.get('legalize-tflite') ?? []);
}

const test1000 = loadDataset('fashion-mnist:test', { limit: 1000 });

describe('asymmetric weight-only models → int8 TFLite weights', () => {
  it('fashion-mlp quantize-weights{bits=8}: int8 FULLY_CONNECTED weights, accuracy within 0.3 pp of ORT, ~1/4 of the float file', async () => {
    const weightOnly = readOnnx(`${PROJECT_MODELS_DIR}/fashion-mlp/model.onnx`);
    await run(weightOnly, 'quantize-weights{bits=8}');
    const asymmetric = weightOnly.graph.nodeList().filter((node) => node.op === 'onnx.DequantizeLinear' && node.inputs[0]?.constant?.dtype === 'uint8');
    // Weights under 1,024 values stay float32 (a DEQUANTIZE would cost more than it saves): the 10-way classifier here.
    const large = asymmetric.filter((node) => node.inputs[0]!.constant!.size >= 1024);
    expect(large.length).toBeGreaterThan(0);

    const converted = decodeOnnx(encodeOnnx(weightOnly));
    const statistics = await run(converted, 'legalize-tflite');
    expect(statistics.get('int8-weights-recentred')).toBe(large.length);
    expect(statistics.get('int8-weights')).toBe(large.length);
    const weights = converted.graph.nodeList().filter((node) => node.op === 'tflite.FULLY_CONNECTED').map((node) => node.inputs[1]!.producer);
    const dequantized = weights.filter((producer) => producer?.op === 'tflite.DEQUANTIZE');
    expect(dequantized).toHaveLength(large.length);
    for (const dequantize of dequantized) {
      const type = dequantize!.inputs[0]!.type as TensorType;
      expect(type.dtype).toBe('int8');
      expect(type.quant!.zeroPoint.every((z) => z === 0)).toBe(true);
      expect(type.quant!.axis).toBe(0);
    }
    const file = encodeTflite(converted);

    const exact = decodeOnnx(encodeOnnx(weightOnly));
    const exactStatistics = await run(exact, 'legalize-tflite{asymmetric-weights=float}');
    expect(exactStatistics.get('int8-weights-recentred')).toBe(0);
    const floatFile = encodeTflite(exact);
    expect(file.byteLength).toBeLessThan(0.3 * floatFile.byteLength);

    const ort = await evaluateAccuracy(weightOnly, test1000, { engine: 'ort' });
    const path = join(workDir, 'fashion-mlp.weights-int8.tflite');
    writeFileSync(path, file);
    const tflite = await evaluateAccuracy(path, test1000, { engine: 'tflite' });
    if (process.env.TFLITE_FIGURES) console.log(`FIGURES fashion-mlp weight-only: ORT ${ort.accuracy}, TFLite int8 weights ${tflite.accuracy}, ${file.byteLength} vs ${floatFile.byteLength} bytes`);
    expect(tflite.total).toBe(1000);
    expect(Math.abs(tflite.accuracy - ort.accuracy) * 100).toBeLessThanOrEqual(0.3);
    expect(ort.accuracy).toBeGreaterThan(0.8);
  }, 120_000);
});
