/**
 * quantizeStaticWithRanges with ranges computed here (ORT minmax over 256 training images,
 * independent of the calibration module) on fashion-cnn: accuracy within 0.3 pp, every activation
 * scale/zero point is the one `activationParams` gives for its range, and ONNX Runtime fuses every
 * group: the optimized model (graphOptimizationLevel 'all', optimizedModelFilePath) has QLinearConv
 * and QGemm and no DequantizeLinear feeding a Conv or Gemm.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { activationParams, planStaticQuantization, prepareForQuantization, quantizeStaticWithRanges } from '@modelpass/quantize';
import { checkWithOnnx, fixturePath, minmaxRanges, readFixture, requireReferees, testAccuracy, trainBatches } from './static-helpers.js';

describe('quantizeStaticWithRanges on fashion-cnn', () => {
  it('quantizes with the given ranges, stays within 0.3 pp, and ORT fuses every QDQ group', async () => {
    requireReferees();
    const model = readFixture('fashion-cnn');
    await prepareForQuantization(model);
    // Every Conv int8 (min-conv-reduction=0; conv1's default placement is tested in static-cost-rules).
    const options = { minConvReduction: 0 };
    const plan = planStaticQuantization(model, options);
    const ranges = await minmaxRanges(model, plan.calibrationTensors, trainBatches(model, 256));
    const result = await quantizeStaticWithRanges(model, ranges, options);

    expect(result.nodes.map((n) => n.op)).toEqual(['Conv', 'MaxPool', 'Conv', 'MaxPool', 'Flatten', 'Gemm', 'Gemm']);
    expect(result.activationsFolded).toBe(3); // the three Relu
    expect(result.leftFloat).toEqual([]);
    for (const tensor of result.tensors.filter((t) => t.kind === 'activation')) {
      const range = ranges.get(tensor.floatTensor);
      if (!range) continue; // shares its input's parameters (MaxPool, Flatten)
      const expected = activationParams(tensor.floatTensor, range, { dtype: 'uint8', symmetric: false });
      expect({ scale: tensor.scale, zeroPoint: tensor.zeroPoint }).toEqual({ scale: expected.quant.scale, zeroPoint: expected.quant.zeroPoint });
    }
    // Every tensor the result names is a value of the quantized model (short names included: the
    // quantized copy of the MaxPool output was `/MaxPool_output_0_quantized`), with its integer dtype.
    for (const tensor of result.tensors) expect(model.graph.getValue(tensor.tensor)?.type, tensor.tensor).toMatchObject({ dtype: tensor.dtype });
    // Each generated value is named once: the DequantizeLinear outputs are dq0, dq1, … without gaps.
    const dqNames = [...model.graph.nodesOf('onnx.DequantizeLinear')].map((node) => Number(node.output(0).name.slice(2))).sort((x, y) => x - y);
    expect(dqNames).toEqual(dqNames.map((_, i) => dqNames[0]! + i));

    const dir = mkdtempSync(join(tmpdir(), 'quantize-static-ranges-'));
    const out = join(dir, 'cnn.int8.onnx');
    writeOnnx(model, out);
    checkWithOnnx(out);
    const fp32 = await testAccuracy(fixturePath('fashion-cnn'));
    const int8 = await testAccuracy(out);
    expect(Math.abs(fp32 - int8) * 100).toBeLessThanOrEqual(0.3);

    const optimized = join(dir, 'cnn.ort-optimized.onnx');
    const session = await ort.InferenceSession.create(out, { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized, logSeverityLevel: 3 });
    await session.release();
    const fused = readOnnx(optimized);
    const ops = [...fused.graph.nodes()].map((node) => node.op.slice(node.op.lastIndexOf('.') + 1));
    expect(ops.filter((op) => op === 'QLinearConv')).toHaveLength(2);
    expect(ops.filter((op) => op === 'QGemm')).toHaveLength(2);
    expect(ops).not.toContain('Conv');
    expect(ops).not.toContain('DequantizeLinear');
  });
});
