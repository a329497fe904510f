/**
 * quantize-static on a model whose weights are Constant nodes (paddle2onnx, tf2onnx): QA s17 round 13, PaddleOCR v4
 * det through quantize-static alone quantized 1 of its 62 Convs and said nothing (its README pipelines start with
 * simplify, which makes them initializers). Now a warning names the layers left float for it, with simplify as the
 * hint; after simplify there is none. Likewise a torch opset-11 ReLU6 (Clip with bounds in Constant nodes) left float
 * under full-integer=true now says where its bounds come from.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { randomTensor } from './weights-helpers.js';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { createOpRegistry } from '@modelpass/ops';
import { quantizePasses } from '@modelpass/quantize';
import { transformPasses } from '@modelpass/transforms';

/** x → conv_a (weight in a Constant node) → Relu → conv_b (weight an initializer) = y. */
function model(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 4, 6, 6]));
  const w: Tensor = randomTensor([8, 4, 3, 3], 1);
  const wa = b.op1('onnx.Constant', [], { value: attrs.tensor(w) }, { name: 'wa_node', outputs: ['wa'] });
  const a = b.op1('onnx.Conv', [x, wa], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv_a' });
  const relu = b.op1('onnx.Relu', [a], {}, { name: 'relu' });
  b.output(b.op1('onnx.Conv', [relu, b.constant(randomTensor([4, 8, 3, 3], 2), 'wb')], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv_b', outputs: ['y'] }));
  return b.model({ onnx: 13 });
}

async function warnings(m: Model, pipeline: string): Promise<{ reason: string; hint?: string }[]> {
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  environment.passes.register(quantizePasses, '@modelpass/quantize');
  const result = await new PassManager({ environment }).run(m, pipeline);
  return result.diagnostics.filter((d) => d.severity === 'warning').map((d) => ({ reason: d.reason, ...(d.hint ? { hint: d.hint } : {}) }));
}

describe('quantize-static and weights in Constant nodes', () => {
  it('names the layers it leaves float for it, with simplify as the hint', async () => {
    const found = (await warnings(model(), 'quantize-static{samples=4 min-conv-reduction=0}')).find((w) => w.reason.includes('Constant nodes'));
    expect(found?.reason).toBe("quantize-static leaves 1 layer(s) float32 whose weights come from Constant nodes, which it does not read as weights: Conv 'conv_a'");
    expect(found?.hint).toBe("run simplify first (e.g. -p 'simplify,quantize-static{…}') to make them initializers");
  });

  it('says nothing of it after simplify, which quantizes that layer', async () => {
    const m = model();
    expect((await warnings(m, 'simplify,quantize-static{samples=4 min-conv-reduction=0}')).some((w) => w.reason.includes('Constant nodes'))).toBe(false);
    // conv_a (its weight an initializer now) is quantized; conv_b makes the graph output and stays float (quantize-outputs=false)
    expect(m.graph.getValue('wa')?.constant?.dtype).toBe('int8');
  });
});

/** x → conv1 → Clip(0, 6) with its bounds in Constant nodes (torch's opset-11 clamp) → conv2 = y. */
function relu6Model(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 4, 6, 6]));
  const conv = b.op1('onnx.Conv', [x, b.constant(randomTensor([8, 4, 3, 3], 1), 'w1')], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv1' });
  const low = b.op1('onnx.Constant', [], { value: attrs.tensor(Tensor.fromValues('float32', [], [0])) }, { name: 'low_node', outputs: ['low'] });
  const high = b.op1('onnx.Constant', [], { value: attrs.tensor(Tensor.fromValues('float32', [], [6])) }, { name: 'high_node', outputs: ['high'] });
  const clip = b.op1('onnx.Clip', [conv, low, high], {}, { name: 'clip' });
  b.output(b.op1('onnx.Conv', [clip, b.constant(randomTensor([4, 8, 1, 1], 2), 'w2')], {}, { name: 'conv2', outputs: ['y'] }));
  return b.model({ onnx: 13 });
}

describe('full-integer and a Clip whose bounds are Constant nodes', () => {
  it('says the bounds come from Constant nodes and to run simplify', async () => {
    const found = (await warnings(relu6Model(), 'quantize-static{samples=4 full-integer=true}')).find((w) => w.reason.includes("Clip 'clip'"));
    expect(found?.reason).toContain("Clip 'clip' (its bounds are not constants (they come from Constant nodes: run simplify first))");
  });

  it('after simplify the Clip is quantized (no float node left)', async () => {
    const found = (await warnings(relu6Model(), 'simplify,quantize-static{samples=4 full-integer=true}')).filter((w) => w.reason.includes('stay float32'));
    expect(found).toEqual([]);
  });
});
