/**
 * `modelpass convert … --pipeline '…distill{…}…'` with the built binary, on small seeded samples:
 * `quantize-static → distill` trains the QDQ model fake-quantized and keeps every scale and zero point;
 * `prune-channels → distill (with a feature matched through a 1×1 Conv projection) → quantize-static`
 * recovers most of what pruning lost, and the projection does not reach the written model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOnnx } from '@modelpass/onnx';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, spawnCli } from './run-cli.js';

const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
const work = mkdtempSync(join(tmpdir(), 'modelpass-distill-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const calibrate = 'quantize-static{dataset=fashion-mnist:train samples=128}';

function accuracy(path: string): number {
  const evaluated = spawnCli(['eval', path, '--dataset', 'fashion-mnist:test', '--limit', '1000', '--json']);
  expect(evaluated.code, evaluated.stderr).toBe(0);
  return (JSON.parse(evaluated.stdout) as { accuracy: number }).accuracy;
}

describe('modelpass convert with distill', () => {
  it('quantize-static then distill: fake-quantized training keeps the scales and changes the int8 weights', () => {
    const quantized = join(work, 'q.onnx');
    const distilled = join(work, 'q-distilled.onnx');
    expect(spawnCli(['convert', cnn, '-o', quantized, '--pipeline', calibrate]).code).toBe(0);
    const result = spawnCli(['convert', cnn, '-o', distilled, '--statistics', '--pipeline', `${calibrate},distill{teacher=${cnn} dataset=fashion-mnist:train samples=640 lr=0.002 seed=2}`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/\b10 steps\b/);
    expect(result.stderr).toMatch(/\b3 fake-quantized-weights\b/);
    const [before, after] = [readOnnx(quantized), readOnnx(distilled)];
    expect(after.graph.nodeList().map((n) => n.op)).toEqual(before.graph.nodeList().map((n) => n.op));
    let [changedWeights, quantizationParameters] = [0, 0];
    for (const value of before.graph.constants) {
      const tensor = after.graph.getValue(value.name)!.constant!;
      const isParameter = [...value.uses].some((use) => /QuantizeLinear|DequantizeLinear/.test(use.node?.op ?? '') && use.index > 0);
      if (isParameter) {
        quantizationParameters++;
        expect(tensor.equals(value.constant!), value.name).toBe(true);
      } else if (value.constant!.dtype === 'int8' && !tensor.equals(value.constant!)) {
        changedWeights++;
      }
    }
    expect(quantizationParameters).toBeGreaterThan(10);
    expect(changedWeights).toBeGreaterThan(0);
    expect(accuracy(distilled)).toBeGreaterThan(0.85);
  }, 120_000);

  it('prune-channels, distill with a projected feature, then quantize-static', () => {
    const pruned = join(work, 'pruned.onnx');
    const out = join(work, 'p-d-q.onnx');
    expect(spawnCli(['convert', cnn, '-o', pruned, '--pipeline', 'prune-channels{ratio=0.5}']).code).toBe(0);
    const pipeline = `prune-channels{ratio=0.5},distill{teacher=${cnn} dataset=fashion-mnist:train samples=1280 lr=0.01 seed=1 features=[/Relu_output_0:/Relu_output_0] feature-weight=0.1},${calibrate}`;
    const result = spawnCli(['convert', cnn, '-o', out, '--statistics', '--pipeline', pipeline]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/\b1 projections\b/);
    const model = readOnnx(out);
    expect(model.graph.nodeList().some((n) => n.op === 'onnx.QuantizeLinear')).toBe(true);
    expect(model.graph.nodeList().some((n) => n.name.startsWith('projection'))).toBe(false);
    expect(model.graph.constants.some((c) => c.name.startsWith('projection'))).toBe(false);
    const [prunedAccuracy, recovered] = [accuracy(pruned), accuracy(out)];
    expect(recovered).toBeGreaterThan(prunedAccuracy + 0.08);
  }, 120_000);

  it('takes a TFLite teacher (run by the TFLite interpreter); feature matching with it asks for an ONNX teacher', () => {
    const tflite = join(work, 'teacher.tflite');
    expect(spawnCli(['convert', cnn, '-o', tflite]).code).toBe(0);
    const mlp = join(repoRoot, 'fixtures/models/fashion-mlp/model.onnx');
    const result = spawnCli(['convert', mlp, '-o', join(work, 'mlp.onnx'), '--statistics', '--pipeline', `distill{teacher=${tflite} dataset=fashion-mnist:train samples=640 seed=1}`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/\b10 steps\b/);
    const name = readOnnx(cnn).graph.outputs[0]!.name;
    const refused = spawnCli(['convert', mlp, '-o', join(work, 'none.onnx'), '--pipeline', `distill{teacher=${tflite} dataset=fashion-mnist:train samples=640 features=[${name}:logits]}`]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/feature matching needs an ONNX teacher/);
    expect(refused.stderr).toMatch(/raise-tflite/);
  }, 120_000);

  it('refuses features whose shapes differ in more than channels, with the reason and no stack', () => {
    const mlpOut = join(work, 'none.onnx');
    const result = spawnCli(['convert', cnn, '-o', mlpOut, '--pipeline', `distill{teacher=${cnn} dataset=fashion-mnist:train features=[/Relu_output_0:/Relu_2_output_0]}`]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/differ in more than the channel count/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
