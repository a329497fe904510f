/**
 * quantize-static{activations=int16} at opset 21 (int16 QuantizeLinear/DequantizeLinear): fashion-cnn
 * with its opset import raised to 21 (its ops — Conv, BatchNormalization, Relu, MaxPool, Flatten,
 * Gemm — mean the same there) is quantized with int16 activations, and ONNX Runtime runs the file on
 * the 10k test images within 0.3 pp of fp32. ORT has no int16 QLinearConv/QGemm, so it keeps the
 * groups as DequantizeLinear → float op → QuantizeLinear (an accuracy option, not a speed one): the
 * optimized model still has the float Conv/Gemm. ONNX's checker here (onnx 1.12) knows opset ≤ 17,
 * so this file is checked by ORT alone.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeOnnx } from '@modelpass/onnx';
import { fixturePath, ortFusion, readFixture, requireReferees, runPipeline, testAccuracy } from './static-helpers.js';

describe('quantize-static{activations=int16} at opset 21', () => {
  it('fashion-cnn: int16 Q/DQ on activations, int8 weights, runs in ORT within 0.3 pp', async () => {
    requireReferees();
    const model = readFixture('fashion-cnn');
    model.opsetImports.set('onnx', 21);
    model.irVersion = 10;
    const statistics = await runPipeline(model, 'simplify,quantize-static{dataset=fashion-mnist:train samples=256 activations=int16}');
    expect(statistics['quantize-static']!['nodes-quantized']).toBe(7);
    const quantizes = [...model.graph.nodesOf('onnx.QuantizeLinear')];
    expect(quantizes.length).toBeGreaterThan(0);
    for (const node of quantizes) {
      const type = node.output(0).type;
      expect(type.kind === 'tensor' && type.dtype).toBe('int16');
    }
    const conv = [...model.graph.nodesOf('onnx.Conv')][0]!;
    expect(conv.input(1).producer?.input(0).constant?.dtype).toBe('int8');

    const out = join(mkdtempSync(join(tmpdir(), 'quantize-static-int16-')), 'cnn.int16.onnx');
    writeOnnx(model, out);
    const fp32 = await testAccuracy(fixturePath('fashion-cnn'));
    const int16 = await testAccuracy(out);
    console.log(`fashion-cnn int16 activations: fp32 ${(fp32 * 100).toFixed(2)}% → ${(int16 * 100).toFixed(2)}%`);
    expect(Math.abs(fp32 - int16) * 100).toBeLessThanOrEqual(0.3);
    // ORT keeps int16 groups as DQ → float op → Q (no int16 integer kernels on CPU).
    const fusion = await ortFusion(out);
    expect(fusion.ops).toContain('Conv');
    expect(fusion.ops).toContain('DequantizeLinear');
  });
});
