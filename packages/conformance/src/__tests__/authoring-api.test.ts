/**
 * The authoring layer, proved by a stranger's plugin (./authoring/compression-plugin.ts, written
 * only against the documented API): on the Fashion-MNIST CNN fixture, int8 per-channel weights
 * and L1 channel removal each verify, export, load in ONNX Runtime and ONNX's checker, and
 * keep what they promise (accuracy within 1 pp on 1,000 test images; pruned = original with the
 * removed channels' contributions zeroed, to float rounding).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, tensorType, verifyModel, type Model } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { encodeOnnx, readOnnx } from '@modelpass/onnx';
import { ANALYSES, PassEnvironment, runPipeline } from '@modelpass/pass-manager';
import { evaluateAccuracy, loadFashionMnist, runOrt } from '@modelpass/runtime';
import { runOnnxChecker } from '../onnx-checker.js';
import compressionPlugin from './authoring/compression-plugin.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const MODEL = join(ROOT, 'fixtures/models/fashion-cnn/model.onnx');
const registry = createOpRegistry();
const environment = () => new PassEnvironment({ ops: registry }).use(compressionPlugin);
const work = mkdtempSync(join(tmpdir(), 'authoring-api-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function errorsOf(model: Model): string[] {
  return verifyModel(model, { registry })
    .filter((d) => d.severity === 'error')
    .map((d) => `${d.location?.node ?? ''}: ${d.reason}`);
}

function checkedByOnnx(model: Model, name: string): string | null {
  const path = join(work, `${name}.onnx`);
  writeFileSync(path, encodeOnnx(model));
  const results = runOnnxChecker([path]);
  if (!results.has(path)) throw new Error(`the ONNX checker gave no verdict on ${path}`);
  return results.get(path)!;
}

const dataset = loadFashionMnist({ split: 'test', limit: 1000 });

describe('a plugin written against the documented authoring API', () => {
  it('int8 per-channel weights: verifies, passes the ONNX checker, runs in ORT within 1 pp of fp32 accuracy', async () => {
    const model = readOnnx(MODEL);
    await runPipeline(model, 'int8-weights', { environment: environment() });
    const quantized = model.graph.nodeList().filter((n) => n.op === 'onnx.DequantizeLinear');
    expect(quantized).toHaveLength(4); // two Conv, two Gemm weights
    for (const dq of quantized) {
      expect(dq.input(0).constant!.dtype).toBe('int8');
      expect(dq.input(1).constant!.shape).toEqual([dq.input(0).constant!.shape[dq.attr('axis', 'int')]!]);
    }
    expect(errorsOf(model)).toEqual([]);
    expect(checkedByOnnx(model, 'int8')).toBeNull();
    // The `shapes` analysis infers through the new DequantizeLinear nodes with the canonical op schemas.
    const shapes = ANALYSES.shapes.compute(model, { registry });
    expect(shapes.typeOf(model.graph.outputs[0]!)).toEqual(tensorType('float32', ['N', 10]));
    for (const dq of quantized) expect(shapes.typeOf(dq.output(0))).toEqual(tensorType('float32', dq.input(0).constant!.shape));
    expect(shapes.inferredCount).toBe(model.graph.nodeCount);
    const fp32 = await evaluateAccuracy(MODEL, dataset);
    const int8 = await evaluateAccuracy(model, dataset);
    console.log(`fashion-cnn on 1,000 test images: fp32 ${(fp32.accuracy * 100).toFixed(1)}%, int8 per-channel ${(int8.accuracy * 100).toFixed(1)}%`);
    expect(fp32.total).toBe(1000);
    expect(Math.abs(int8.accuracy - fp32.accuracy)).toBeLessThanOrEqual(0.01);
  });

  it('L1 channel removal (conv → BN → relu → pool → conv, 25% of 16): verifies, runs in ORT, equals the masked original', async () => {
    const model = readOnnx(MODEL);
    const [conv1, , , , conv2] = model.graph.nodeList();
    expect([conv1!.op, conv2!.op]).toEqual(['onnx.Conv', 'onnx.Conv']);
    const w1 = conv1!.input(1).constant!;
    const w2 = conv2!.input(1).constant!;
    await runPipeline(model, `prune-channels-l1{ratio=0.25 layers=[${conv1!.name}]}`, { environment: environment() });
    expect(conv1!.input(1).constant!.shape).toEqual([12, 1, 3, 3]);
    expect(conv2!.input(1).constant!.shape).toEqual([32, 12, 3, 3]);
    const shapes = ANALYSES.shapes.compute(model, { registry });
    expect(shapes.typeOf(conv1!.output(0))).toEqual(tensorType('float32', ['N', 12, 28, 28]));
    expect(shapes.typeOf(conv2!.output(0))).toEqual(tensorType('float32', ['N', 32, 14, 14]));
    expect(errorsOf(model)).toEqual([]);
    expect(checkedByOnnx(model, 'pruned')).toBeNull();

    // The referee: the original model with conv2's weights for the removed channels set to zero.
    const kept = new Set<number>();
    const pruned1 = conv1!.input(1).constant!.toNumbers();
    const original1 = w1.toNumbers();
    for (let out = 0; out < 12; out++) {
      const row = pruned1.slice(out * 9, out * 9 + 9).join();
      for (let c = 0; c < 16; c++) if (original1.slice(c * 9, c * 9 + 9).join() === row) kept.add(c);
    }
    expect(kept.size).toBe(12);
    const masked = readOnnx(MODEL);
    const maskedConv2 = masked.graph.nodeList()[4]!;
    const values = w2.toNumbers().map((v, i) => (kept.has(Math.floor(i / 9) % 16) ? v : 0));
    maskedConv2.input(1).setConstant(Tensor.fromValues('float32', w2.shape, values));

    const pixels = dataset.samples.toNumbers().slice(0, 8 * 784);
    const images = Tensor.fromValues('float32', [8, 1, 28, 28], pixels.map((p) => p / 255));
    const ours = (await runOrt(model, { input: images })).get('logits')!;
    const referee = (await runOrt(masked, { input: images })).get('logits')!;
    expect(ours.shape).toEqual([8, 10]);
    const a = ours.toNumbers();
    const b = referee.toNumbers();
    const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
    expect(worst).toBeLessThanOrEqual(1e-4);
    const accuracy = await evaluateAccuracy(model, dataset);
    console.log(`fashion-cnn pruned 4 of 16 conv1 channels (no fine-tuning): ${(accuracy.accuracy * 100).toFixed(1)}% on 1,000 test images; max |Δlogit| vs masked original ${worst.toExponential(2)}`);
  });
});
