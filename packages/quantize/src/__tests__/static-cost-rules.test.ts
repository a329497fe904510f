/**
 * Placement by cost on fashion-cnn (`simplify,quantize-static{dataset=fashion-mnist:train samples=256}`):
 * conv1 (1 input channel × 3×3 = 9 multiply-adds per output, reading the graph input) stays float
 * with the reason in --debug, its Relu → MaxPool runs as MaxPool → Relu (same values), and in ORT's
 * optimized graph the MaxPool stays a float NCHWc MaxPool next to the float Conv, the Relu is folded
 * into the QuantizeLinear, conv2 is a QLinearConv, and no DequantizeLinear feeds a Conv/MatMul/Gemm.
 * Accuracy on the 10k test images within 0.3 pp. `min-conv-reduction=0` quantizes conv1 as before.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeOnnx } from '@modelpass/onnx';
import { checkWithOnnx, fixturePath, ortFusion, readFixture, requireReferees, runPipeline, testAccuracy } from './static-helpers.js';

const PIPELINE = 'simplify,quantize-static{dataset=fashion-mnist:train samples=256';

describe('quantize-static cost rules on fashion-cnn', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantize-cost-'));

  it('leaves the 1-channel conv1 float, runs its MaxPool before the Relu, and ORT keeps the MaxPool float', async () => {
    requireReferees();
    const model = readFixture('fashion-cnn');
    const debug: string[] = [];
    const statistics = await runPipeline(model, `${PIPELINE}}`, debug);
    expect(statistics['quantize-static']!['pools-reordered']).toBe(1);
    expect(debug).toContainEqual(expect.stringMatching(/left Conv '\/conv1\/Conv' float: its reduction is 9 multiply-adds per output \(1 input channel\(s\) × 3×3 kernel\), under 32/));
    expect(debug).toContainEqual(expect.stringMatching(/ran MaxPool '\/MaxPool' before '\/Relu'/));
    // The value conv2 reads keeps its name (calibration and the report name it as before).
    const conv2 = [...model.graph.nodes()].find((node) => node.name === '/conv2/Conv')!;
    const quantize = conv2.inputs[0]!.producer!.inputs[0]!.producer!;
    expect(quantize.op).toBe('onnx.QuantizeLinear');
    expect(quantize.inputs[0]!.name).toBe('/MaxPool_output_0');
    expect(quantize.inputs[0]!.producer!.op).toBe('onnx.Relu');
    expect(quantize.inputs[0]!.producer!.inputs[0]!.producer!.op).toBe('onnx.MaxPool');

    const out = join(dir, 'cnn.int8.onnx');
    writeOnnx(model, out);
    checkWithOnnx(out);
    const fusion = await ortFusion(out);
    expect(fusion.unfused).toEqual([]);
    expect(fusion.ops.filter((op) => op === 'QLinearConv')).toHaveLength(1);
    expect(fusion.ops.filter((op) => op === 'Conv')).toHaveLength(1); // conv1, float (NCHWc)
    expect(fusion.ops).not.toContain('Relu'); // folded into the QuantizeLinear
    expect(fusion.ops).not.toContain('DequantizeLinear');
    // The first MaxPool stays float (NCHWc), not a uint8 MaxPool: ORT did not move the QuantizeLinear above it.
    expect(fusion.ops.filter((op) => op === 'MaxPool')).toHaveLength(1);
    expect(fusion.ops.filter((op) => op === 'NhwcMaxPool')).toHaveLength(1);
    expect(Math.abs((await testAccuracy(fixturePath('fashion-cnn'))) - (await testAccuracy(out))) * 100).toBeLessThanOrEqual(0.3);
  });

  it('min-conv-reduction=0 quantizes conv1 too (every Conv a QLinearConv)', async () => {
    requireReferees();
    const model = readFixture('fashion-cnn');
    const debug: string[] = [];
    await runPipeline(model, `${PIPELINE} min-conv-reduction=0}`, debug);
    expect(debug.some((line) => line.includes('ran MaxPool'))).toBe(false);
    const out = join(dir, 'cnn-all-int8.onnx');
    writeOnnx(model, out);
    const fusion = await ortFusion(out);
    expect(fusion.unfused).toEqual([]);
    expect(fusion.ops.filter((op) => op === 'QLinearConv')).toHaveLength(2);
    expect(fusion.ops).not.toContain('Conv');
  });
});
