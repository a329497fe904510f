/**
 * An ONNX model already in float16 (QA s13): quantize-static, quantize-dynamic and quantize-weights said
 * only "found nothing to quantize (no … float32 constant weights)", leaving the user to guess why. The
 * warning now carries a hint naming the 16-bit weights and what to quantize instead.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { randomTensor, runPipeline } from './weights-helpers.js';

function halfMlp(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float16', ['batch', 32]));
  const half = (shape: number[], seed: number) => Tensor.fromValues('float16', shape, randomTensor(shape, seed).toNumbers());
  const h = b.op1('onnx.Relu', [b.op1('onnx.Gemm', [x, b.constant(half([32, 32], 1), 'w1')], {}, { name: 'fc1' })], {}, { name: 'relu' });
  const y = b.op1('onnx.MatMul', [h, b.constant(half([32, 10], 2), 'w2')], {}, { name: 'fc2', outputs: ['y'] });
  y.type = tensorType('float16', ['batch', 10]);
  b.output(y);
  return b.model({ onnx: 13 });
}

describe('quantizers on a float16 model', () => {
  for (const pipeline of ['quantize-static{samples=4}', 'quantize-dynamic', 'quantize-weights']) {
    it(`${pipeline}: the nothing-to-quantize warning names the 16-bit weights`, async () => {
      const run = await runPipeline(halfMlp(), pipeline);
      expect(run.warnings.some((w) => /nothing to quantize|found no/.test(w))).toBe(true);
      expect(run.hints).toContain("the model's Conv/MatMul/Gemm weights are 16-bit (2 float16): quantize the float32 model it came from (int8 from float16 weights adds a second rounding; ORT's quantizer takes float32 models only)");
    });
  }
});
