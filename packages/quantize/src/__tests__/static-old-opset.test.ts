/**
 * quantize-static on models importing onnx opsets older than 10 (no QuantizeLinear): opsets 7–9 are
 * raised to 13 when every node keeps its meaning (an opset-8 BatchNormalization's spatial=1 dropped),
 * older ones are refused naming the opset, before any calibration runs. planStaticQuantization called on its own
 * (no prepareForQuantization) raises them the same way (it said "modelpass has no opset converter yet");
 * activations=int16 (opset 21) is refused naming the model's own opset, before the upgrade to 13, which cannot
 * give it int16 QuantizeLinear.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType, type Model } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { planStaticQuantization } from '../static/quantize-static.js';
import { requireReferees, runPipeline } from './static-helpers.js';

afterAll(() => disposeSharedOrtRunner());

/** x[2,16] → Slice (opset-10 inputs, or opset-9 attributes) → MatMul by a constant [16,8] → Clip (attributes). */
function sliceMatMulModel(opset: number): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 16]));
  const i64 = (values: number[]): ReturnType<typeof b.constant> => b.constant(Tensor.fromValues('int64', [values.length], values.map(BigInt)));
  const sliced = opset >= 10
    ? b.op1('onnx.Slice', [x, i64([0]), i64([16]), i64([1])], {}, { name: 'slice' })
    : b.op1('onnx.Slice', [x], { starts: attrs.ints([0]), ends: attrs.ints([16]), axes: attrs.ints([1]) }, { name: 'slice' });
  const weight = b.constant(Tensor.fromValues('float32', [16, 8], Array.from({ length: 128 }, (_, i) => Math.sin(i * 0.7))), 'w');
  const product = b.op1('onnx.MatMul', [sliced, weight], {}, { name: 'matmul' });
  b.output(b.op1('onnx.Clip', [product], { min: attrs.float(-1), max: attrs.float(1) }, { outputs: ['y'] }));
  const model = b.model();
  model.opsetImports.set('onnx', opset);
  return model;
}

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
    expect(String((error as Error).message)).toMatch(/imports opset 6, .*only opsets 7–12 are upgraded/);
    expect(model.opset('onnx')).toBe(6);
  });

  it('planStaticQuantization alone raises an opset-8 model to 13 (upgradeToOpset13) and plans its Conv', () => {
    const model = convBatchNormModel(8);
    const plan = planStaticQuantization(model, { minConvReduction: 0 });
    expect(model.opset('onnx')).toBe(13);
    expect(plan.nodes.map((node) => node.op)).toContain('onnx.Conv');
  });

  it('planStaticQuantization alone refuses an opset-6 model naming the opsets the upgrade takes, not a missing converter', () => {
    const model = convBatchNormModel(6);
    let error: unknown;
    try {
      planStaticQuantization(model);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ModelpassError);
    const text = `${(error as ModelpassError).message} ${(error as ModelpassError).diagnostics.map((d) => d.hint ?? '').join(' ')}`;
    expect(text).toMatch(/imports opset 6, .*only opsets 7–12 are upgraded/);
    expect(text).not.toMatch(/no opset converter/);
    expect(model.opset('onnx')).toBe(6);
  });

  it('activations=int16 on an opset-8 model is refused naming opset 8 (not the 13 it would be raised to) and ONNX\'s converter to 21', async () => {
    const model = convBatchNormModel(8);
    const error = await runPipeline(model, 'quantize-static{samples=4 activations=int16}').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelpassError);
    const text = `${(error as ModelpassError).message} ${(error as ModelpassError).diagnostics.map((d) => d.hint ?? '').join(' ')}`;
    expect(text).toMatch(/activations=int16 needs onnx opset 21 \(int16 QuantizeLinear\); the model imports opset 8/);
    expect(text).toMatch(/opset upgrade stops at 13.*convert_version\(onnx\.load\('in\.onnx'\), 21\)/);
    expect(text).not.toMatch(/no opset converter/);
    expect(model.opset('onnx')).toBe(8);
  });

  it.each([9, 10])('quantize-dynamic raises an opset-%i model to 13 (DynamicQuantizeLinear needs 11), and ONNX Runtime runs it close to the original', async (opset) => {
    requireReferees();
    const model = sliceMatMulModel(opset);
    const feeds = { x: Tensor.fromValues('float32', [2, 16], Array.from({ length: 32 }, (_, i) => Math.cos(i * 0.3))) };
    const before = (await runOrt(encodeOnnx(model), feeds)).get('y')!.toNumbers() as number[];
    await runPipeline(model, 'quantize-dynamic');
    expect(model.opset('onnx')).toBe(13);
    expect([...model.graph.nodesOf('onnx.DynamicQuantizeLinear')].length).toBe(1);
    const after = (await runOrt(encodeOnnx(model), feeds)).get('y')!.toNumbers() as number[];
    for (let i = 0; i < before.length; i++) expect(Math.abs(after[i]! - before[i]!)).toBeLessThan(0.05);
  });
});
