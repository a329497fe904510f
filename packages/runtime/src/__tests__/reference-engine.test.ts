import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readOnnx } from '@modelpass/onnx';
import { OrtRunner, ReferenceEngine, compareModels, compareOutputs, createEngine, loadTestDataSet } from '@modelpass/runtime';
import { CONFORMANCE } from './helpers.js';

const ort = new OrtRunner();
afterAll(() => ort.dispose());
const FIXTURES = join(import.meta.dirname, '../../../../fixtures/models');

const cases = [
  'test_relu',
  'test_add_bcast',
  'test_matmul_2d',
  'test_gemm_default_no_bias',
  'test_softmax_example',
  'test_conv_with_strides_padding',
  'test_maxpool_2d_default',
  'test_transpose_default',
  'test_reshape_reordered_all_dims',
  'test_cast_FLOAT_to_FLOAT16',
  'test_argmax_default_axis_example',
  'test_and2d',
];

describe('reference interpreter against ONNX Runtime', () => {
  it('createEngine picks engines by name and rejects unknown ones', () => {
    expect(createEngine('reference').name).toBe('reference');
    expect(createEngine('ort').name).toBe('ort');
    expect(createEngine('tflite').name).toBe('tflite');
    expect(() => createEngine('coreml' as never)).toThrow(/unknown engine 'coreml'/);
  });

  it.each(cases)('%s: both engines agree with each other and with the expected outputs', async (testCase) => {
    const dir = join(CONFORMANCE, testCase);
    const model = readOnnx(join(dir, 'model.onnx'));
    const { inputs, outputs } = loadTestDataSet(join(dir, 'test_data_set_0'), model);
    const reference = await new ReferenceEngine().run(model, inputs);
    const onnxRuntime = await ort.run(join(dir, 'model.onnx'), inputs);
    const agreement = compareOutputs(onnxRuntime, reference, { atol: 1e-4, rtol: 1e-4 });
    expect(agreement.withinTolerance, JSON.stringify(agreement.perOutput)).toBe(true);
    expect(compareOutputs(outputs, reference, { atol: 1e-4, rtol: 1e-4 }).withinTolerance).toBe(true);
  });

  it('compareModels runs the Fashion-MNIST MLP on both engines from the same seed', async () => {
    const model = join(FIXTURES, 'fashion-mlp/model.onnx');
    const report = await compareModels(model, model, { engines: ['ort', 'reference'], seed: 4, dims: { N: 4 }, ranges: { input: [0, 1] } });
    expect(report.engines).toEqual(['ort', 'reference']);
    expect(report.maxAbsError).toBeLessThan(1e-4);
    expect(report.top1Agreement).toBe(1);
    expect(report.cosine).toBeGreaterThan(0.999999);
  });

  it('reports missing and unknown feeds clearly', async () => {
    const model = readOnnx(join(CONFORMANCE, 'test_add', 'model.onnx'));
    await expect(new ReferenceEngine().run(model, {})).rejects.toThrow(/input 'x' of model .* is missing from the feeds/);
  });
});
