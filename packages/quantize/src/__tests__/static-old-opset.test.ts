/**
 * quantize-static on models importing onnx opsets older than 10 (no QuantizeLinear): opsets 7–9 are
 * raised to 13 when every node keeps its meaning (an opset-8 BatchNormalization's spatial=1 dropped),
 * older ones are refused naming the opset, before any calibration runs.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType, type Model } from '@modelpass/ir';
import { requireReferees, runPipeline } from './static-helpers.js';

function convBatchNormModel(opset: number): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 4, 8, 8]));
  const weight = b.constant(Tensor.fromValues('float32', [8, 4, 3, 3], Array.from({ length: 288 }, (_, i) => Math.sin(i * 0.37))), 'w');
  const conv = b.op1('onnx.Conv', [x, weight], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv' });
  const channel = (seed: number): ReturnType<typeof b.constant> => b.constant(Tensor.fromValues('float32', [8], Array.from({ length: 8 }, (_, i) => 1 + 0.1 * Math.sin(seed + i))));
  const bn = b.op1('onnx.BatchNormalization', [conv, channel(1), channel(2), channel(3), channel(4)], { spatial: attrs.int(1) }, { name: 'bn' });
  b.output(b.op1('onnx.Relu', [bn], {}, { outputs: ['y'] }));
  const model = b.model();
  model.opsetImports.set('onnx', opset);
  return model;
}

describe('quantize-static on old onnx opsets', () => {
  it('raises an opset-8 model (BatchNormalization spatial=1) to 13 and quantizes its Conv', async () => {
    requireReferees();
    const model = convBatchNormModel(8);
    await runPipeline(model, 'quantize-static{samples=4 min-conv-reduction=0}');
    expect(model.opset('onnx')).toBe(13);
    expect([...model.graph.nodesOf('onnx.QuantizeLinear')].length).toBeGreaterThan(0);
    for (const node of model.graph.nodesOf('onnx.BatchNormalization')) expect(node.hasAttribute('spatial')).toBe(false);
  });

  it('refuses an opset-6 model naming its opset and the opsets it upgrades, and changes nothing', async () => {
    const model = convBatchNormModel(6);
    const error = await runPipeline(model, 'quantize-static{samples=4}').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelpassError);
    expect(String((error as Error).message)).toMatch(/imports opset 6, .*only opsets 7–9 are upgraded/);
    expect(model.opset('onnx')).toBe(6);
  });
});
