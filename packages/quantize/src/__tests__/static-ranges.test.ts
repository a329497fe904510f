import { describe, expect, it } from 'vitest';
import { writeOnnx } from '@modelpass/onnx';
import { planStaticQuantization, prepareForQuantization, quantizeStaticWithRanges } from '@modelpass/quantize';
import { checkWithOnnx, fileSize, fixturePath, minmaxRanges, readFixture, requireReferees, testAccuracy, trainBatches } from './static-helpers.js';

describe('quantizeStaticWithRanges on the Fashion-MNIST fixtures', () => {
  it.each(['fashion-cnn', 'fashion-mlp', 'fashion-transformer', 'fashion-transformer-opset17'])('%s', async (name) => {
    requireReferees();
    const model = readFixture(name);
    await prepareForQuantization(model);
    const plan = planStaticQuantization(model);
    const ranges = await minmaxRanges(model, plan.calibrationTensors, trainBatches(model, 256));
    const result = await quantizeStaticWithRanges(model, ranges);
    const out = `/tmp/qs-${name}.onnx`;
    writeOnnx(model, out);
    checkWithOnnx(out);
    const base = await testAccuracy(fixturePath(name));
    const acc = await testAccuracy(out);
    console.log(name, base, acc, fileSize(out) / fileSize(fixturePath(name)), result.nodes.length, result.leftFloat.length, [...result.unsupportedOps]);
    expect(Math.abs(base - acc)).toBeLessThan(0.003);
  });
});
