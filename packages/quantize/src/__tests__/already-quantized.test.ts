/**
 * A quantizer run on a model that is quantized already said "all N Conv/MatMul/Gemm stay float32" (quantize-static
 * twice) or pointed at Constant nodes and `simplify` (quantize-weights, then quantize-dynamic) (QA s12). It now
 * says the model is already quantized, and how many layers are. Worse, the second quantize-static took MatMul
 * weights read through DequantizeLinear for activations and quantized them again, per tensor (a 2-layer
 * TransformerEncoder: ORT cosine to fp32 0.9998 → 0.955, silently); DequantizeLinear outputs are left alone now.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, tensorType, type Model } from '@modelpass/ir';
import { randomTensor, runPipeline } from './weights-helpers.js';

/** x [batch,32] → MatMul → Relu → MatMul → Relu → Gemm → y; a Constant node too (as LayerNorm/GELU exports have). */
function mlp(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', ['batch', 32]));
  const h1 = b.op1('onnx.Relu', [b.op1('onnx.MatMul', [x, b.constant(randomTensor([32, 32], 1), 'w1')], {}, { name: 'fc1' })], {}, { name: 'relu1' });
  const h2 = b.op1('onnx.Relu', [b.op1('onnx.MatMul', [h1, b.constant(randomTensor([32, 32], 2), 'w2')], {}, { name: 'fc2' })], {}, { name: 'relu2' });
  const y = b.op1('onnx.MatMul', [h2, b.constant(randomTensor([32, 4], 3), 'w3')], {}, { name: 'fc3', outputs: ['y'] });
  y.type = tensorType('float32', ['batch', 4]);
  b.output(y);
  return b.model({ onnx: 13 });
}

describe('quantizing a quantized model', () => {
  it('quantize-static twice: the second says the model is already quantized', async () => {
    const model = mlp();
    await runPipeline(model, 'quantize-static{samples=4}');
    const again = await runPipeline(model, 'quantize-static{samples=4}');
    const warning = again.warnings.find((reason) => reason.includes('found nothing to quantize'));
    expect(warning).toMatch(/^quantize-static found nothing to quantize: the model is already quantized \(3 layer\(s\) run on integers or read their weights through DequantizeLinear\)$/);
    // the MatMuls' dequantized weights were taken for activations and quantized a second time (per tensor)
    expect(again.statistics.get('nodes-quantized') ?? 0).toBe(0);
    expect(again.statistics.get('tensors-quantized') ?? 0).toBe(0);
  }, 60_000);

  it('quantize-weights, then quantize-dynamic: no hint at Constant nodes', async () => {
    const model = mlp();
    await runPipeline(model, 'quantize-weights{bits=4 block-size=16}');
    const dynamic = await runPipeline(model, 'quantize-dynamic');
    expect(dynamic.warnings.join('\n')).toMatch(/found no MatMul\/Gemm layer with a constant float32 weight to quantize: the model is already quantized \(3 layer\(s\)/);
    expect(dynamic.hints.join('\n')).not.toMatch(/Constant nodes/);
  }, 60_000);
});
