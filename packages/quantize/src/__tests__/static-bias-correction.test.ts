/**
 * Bias correction of quantize-static. The golden case re-derives fashion-mlp's first layer's
 * correction here, in float64 from the written file's own integers (input QuantizeLinear
 * parameters, int8 weights and scales, int32 bias) and the first 64 training images, independently
 * of the pass: δ_c = mean over samples of (Ŵx̂ + b̂ − Wx − b)_c, and the corrected int32 bias must be
 * the uncorrected one minus round(δ_c / bias scale_c) (±1 for float rounding). End to end, the
 * corrected fashion-transformer (MatMul biases live in float Adds) passes ONNX's checker, ORT fuses
 * every group and the accuracy stays within 0.3 pp; with random calibration inputs `auto` leaves it off.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Model, Node } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { loadDataset } from '@modelpass/runtime';
import { checkWithOnnx, fixturePath, ortFusion, readFixture, requireReferees, runPipeline, testAccuracy } from './static-helpers.js';

function nodeNamed(model: Model, name: string): Node {
  return [...model.graph.nodes()].find((node) => node.name === name)!;
}

/** The float constant behind a DequantizeLinear input of `node`, as (values, scales, zero points). */
function dequantizeInput(node: Node, index: number): { values: number[]; scales: number[]; zeros: number[] } {
  const dq = node.input(index).producer!;
  expect(dq.op).toBe('onnx.DequantizeLinear');
  return { values: dq.input(0).constant!.toNumbers(), scales: dq.input(1).constant!.toNumbers(), zeros: dq.inputs[2]?.constant?.toNumbers() ?? [0] };
}

describe('quantize-static{bias-correction}', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantize-static-bias-'));

  it("fashion-mlp's /fc1/Gemm bias moves by the mean shift re-derived from the file's integers", async () => {
    requireReferees();
    const pipeline = (mode: string) => `simplify,quantize-static{dataset=fashion-mnist:train samples=64 calibration=minmax bias-correction=${mode}}`;
    const plain = readFixture('fashion-mlp');
    await runPipeline(plain, pipeline('off'));
    const corrected = readFixture('fashion-mlp');
    const statistics = await runPipeline(corrected, pipeline('on'));
    expect(statistics['quantize-static']!['biases-corrected']).toBe(3);

    const float = readFixture('fashion-mlp');
    const floatGemm = nodeNamed(float, '/fc1/Gemm');
    const w = floatGemm.input(1).constant!.toNumbers(); // [128, 784], transB=1
    const b = floatGemm.input(2).constant!.toNumbers();
    expect(Number(floatGemm.attr('transB', 'int', 0))).toBe(1);
    const gemm = nodeNamed(plain, '/fc1/Gemm');
    const weight = dequantizeInput(gemm, 1);
    const bias = dequantizeInput(gemm, 2);
    const inputQ = gemm.input(0).producer!.input(0).producer!;
    expect(inputQ.op).toBe('onnx.QuantizeLinear');
    const xScale = inputQ.input(1).constant!.toNumbers()[0]!;
    const xZero = inputQ.input(2).constant!.toNumbers()[0]!;
    const [outputs, inputs] = [b.length, w.length / b.length];

    const images = loadDataset('fashion-mnist:train', { limit: 64 }).samples.bytes();
    const shift = new Float64Array(outputs);
    for (let s = 0; s < 64; s++) {
      const x = Array.from(images.subarray(s * inputs, (s + 1) * inputs), (v) => Math.fround(v / 255));
      const xq = x.map((v) => (Math.min(255, Math.max(0, Math.round(v / xScale) + xZero)) - xZero) * xScale);
      for (let c = 0; c < outputs; c++) {
        let exact = b[c]!;
        let quantized = bias.values[c]! * bias.scales[bias.scales.length === 1 ? 0 : c]!;
        const wScale = weight.scales[weight.scales.length === 1 ? 0 : c]!;
        for (let k = 0; k < inputs; k++) {
          exact += w[c * inputs + k]! * x[k]!;
          quantized += weight.values[c * inputs + k]! * wScale * xq[k]!;
        }
        shift[c]! += (quantized - exact) / 64;
      }
    }
    const after = dequantizeInput(nodeNamed(corrected, '/fc1/Gemm'), 2);
    let moved = 0;
    for (let c = 0; c < outputs; c++) {
      const scale = bias.scales[bias.scales.length === 1 ? 0 : c]!;
      const expected = bias.values[c]! - Math.round(shift[c]! / scale);
      expect(Math.abs(after.values[c]! - expected)).toBeLessThanOrEqual(1);
      if (after.values[c] !== bias.values[c]) moved++;
    }
    // The correction is not a no-op: most channels' biases moved.
    expect(moved).toBeGreaterThan(outputs / 2);
  });

  it('fashion-transformer: MatMul biases in float Adds corrected, checker ok, every group fused, accuracy within 0.3 pp', async () => {
    requireReferees();
    const model = readFixture('fashion-transformer');
    const debug: string[] = [];
    const statistics = await runPipeline(model, 'simplify,quantize-static{dataset=fashion-mnist:train samples=256 calibration=percentile bias-correction=on}', debug);
    // 9 MatMuls with a bias Add + the head Gemm; the attention MatMuls (two activations) have no weight.
    expect(statistics['quantize-static']!['biases-corrected']).toBe(10);
    expect(debug.filter((line) => line.includes('subtracted from its float-bias'))).toHaveLength(9);
    expect(debug.filter((line) => line.includes('not corrected: its weight is not a constant'))).toHaveLength(4);
    const out = join(dir, 'transformer.int8.onnx');
    writeOnnx(model, out);
    checkWithOnnx(out);
    expect((await ortFusion(out)).unfused).toEqual([]);
    const fp32 = await testAccuracy(fixturePath('fashion-transformer'));
    const int8 = await testAccuracy(out);
    expect(Math.abs(fp32 - int8) * 100).toBeLessThanOrEqual(0.3);
  }, 300_000);

  it('auto: on with a dataset, off with seeded random inputs', async () => {
    requireReferees();
    const withData = await runPipeline(readFixture('fashion-cnn'), 'quantize-static{dataset=fashion-mnist:train samples=64}');
    expect(withData['quantize-static']!['biases-corrected']).toBe(3);
    const random = await runPipeline(readFixture('fashion-cnn'), 'quantize-static{samples=16}');
    expect(random['quantize-static']!['biases-corrected'] ?? 0).toBe(0);
  });
});
