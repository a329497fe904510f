/**
 * Upsample (opset 7–9) and Resize-10 blocked the opset upgrade that quantize, train and distill share; they now become
 * a Resize-13 with no roi, asymmetric coordinates and the nearest rounding ONNX Runtime applied to the old ops.
 * Referee: ONNX Runtime runs the model before and after the upgrade with equal outputs.
 */
import { attrs, GraphBuilder, Tensor, tensorType, verifyModel, type Model } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { upgradeToOpset13 } from '@modelpass/transforms';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

const registry = createOpRegistry();
const IMAGE = [1, 2, 5, 7];

/** ONNX Runtime's outputs for x (no graph optimization: the model's own ops compute them), by output name. */
async function runOrt(model: Model): Promise<Map<string, { dims: readonly number[]; data: number[] }>> {
  const count = IMAGE.reduce((a, b) => a * b, 1);
  const x = new ort.Tensor('float32', Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.91 + 0.3) * 2), IMAGE);
  const session = await ort.InferenceSession.create(encodeOnnx(model), { logSeverityLevel: 3, graphOptimizationLevel: 'disabled' });
  try {
    const results = await session.run({ x });
    return new Map(Object.entries(results).map(([name, tensor]) => [name, { dims: tensor.dims, data: Array.from(tensor.data as Float32Array) }]));
  } finally {
    await session.release();
  }
}

const scalesConstant = (b: GraphBuilder, scales: number[], name: string) => b.constant(Tensor.fromValues('float32', [scales.length], scales), name);

/** One old resize per case, each feeding its own graph output. */
function oldResizeModel(opset: number, cases: ReadonlyArray<{ name: string; mode: 'nearest' | 'linear'; scales: number[] }>): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', IMAGE));
  for (const { name, mode, scales } of cases) {
    const output =
      opset >= 10
        ? b.op1('onnx.Resize', [x, scalesConstant(b, scales, `${name}_scales`)], { mode: attrs.string(mode) }, { name, outputs: [name] })
        : opset === 9
          ? b.op1('onnx.Upsample', [x, scalesConstant(b, scales, `${name}_scales`)], { mode: attrs.string(mode) }, { name, outputs: [name] })
          : b.op1('onnx.Upsample', [x], { mode: attrs.string(mode), scales: attrs.floats(scales) }, { name, outputs: [name] });
    b.output(output);
  }
  const model = b.model();
  model.opsetImports.set('onnx', opset);
  return model;
}

async function expectSameOutputsAfterUpgrade(model: Model, rewrittenOp: string): Promise<void> {
  const before = await runOrt(model);
  const count = model.graph.nodeList().length;
  const { blocking, rewritten } = upgradeToOpset13(model);
  expect(blocking).toEqual([]);
  expect(model.opset('onnx')).toBe(13);
  expect(Object.fromEntries(rewritten)).toEqual({ [rewrittenOp]: count });
  expect(model.graph.nodeList().map((n) => n.op)).toEqual(new Array(count).fill('onnx.Resize'));
  expect(verifyModel(model, { registry }).filter((d) => d.severity === 'error')).toEqual([]);
  const after = await runOrt(model);
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [name, tensor] of before) {
    expect(after.get(name)!.dims, name).toEqual(tensor.dims);
    expect(after.get(name)!.data, name).toEqual(tensor.data);
  }
}

describe('the opset upgrade of Upsample and Resize-10', () => {
  it('Upsample-9 (scales input), nearest and linear: a Resize-13 keeping the node names and outputs, and ONNX Runtime computes the same', async () => {
    const model = oldResizeModel(9, [
      { name: 'up_nearest', mode: 'nearest', scales: [1, 1, 2, 3] },
      { name: 'up_nearest_fraction', mode: 'nearest', scales: [1, 1, 1.5, 2.5] },
      { name: 'up_linear', mode: 'linear', scales: [1, 1, 2, 1.5] },
    ]);
    await expectSameOutputsAfterUpgrade(model, 'onnx.Upsample');
    const [nearest] = model.graph.nodeList();
    expect(nearest!.name).toBe('up_nearest');
    expect(nearest!.inputs[1]).toBeNull();
    expect(nearest!.attr('coordinate_transformation_mode', 'string')).toBe('asymmetric');
    expect(nearest!.attr('nearest_mode', 'string')).toBe('floor');
  });

  it('Upsample-7 (scales attribute): the scales become a constant input, and ONNX Runtime computes the same', async () => {
    await expectSameOutputsAfterUpgrade(
      oldResizeModel(8, [
        { name: 'up7_nearest', mode: 'nearest', scales: [1, 1, 3, 2] },
        { name: 'up7_linear', mode: 'linear', scales: [1, 1, 2, 2] },
      ]),
      'onnx.Upsample',
    );
  });

  it('Resize-10, enlarging and shrinking, nearest and linear: ONNX Runtime computes the same after the upgrade', async () => {
    const model = oldResizeModel(10, [
      { name: 'enlarge_nearest', mode: 'nearest', scales: [1, 1, 2, 1.5] },
      { name: 'shrink_nearest', mode: 'nearest', scales: [1, 1, 0.5, 0.6] },
      { name: 'enlarge_linear', mode: 'linear', scales: [1, 1, 1.6, 2] },
      { name: 'shrink_linear', mode: 'linear', scales: [1, 1, 0.6, 0.5] },
    ]);
    await expectSameOutputsAfterUpgrade(model, 'onnx.Resize');
    expect(model.graph.nodeList().map((n) => n.optionalAttr('nearest_mode', 'string'))).toEqual(['floor', 'ceil', undefined, undefined]);
  });

  it('a nearest resize that enlarges one axis and shrinks another, or whose scales are computed, blocks the upgrade, named', () => {
    const model = oldResizeModel(10, [{ name: 'mixed', mode: 'nearest', scales: [1, 1, 2, 0.5] }]);
    const x = model.graph.inputs[0]!;
    const computed = model.graph.createNode({ op: 'onnx.Abs', inputs: [model.graph.lookup('mixed_scales')!], name: 'abs_scales' });
    const resize = model.graph.createNode({ op: 'onnx.Resize', inputs: [x, computed.output()], attributes: { mode: attrs.string('nearest') }, name: 'computed' });
    model.graph.addOutput(resize.output());
    const { blocking } = upgradeToOpset13(model);
    expect(blocking.map(({ node, reason }) => `${node.name}: ${reason}`)).toEqual([
      "mixed: its scales [1, 1, 2, 0.5] enlarge one axis and shrink another, which ONNX Runtime rounded down and up respectively; one nearest_mode of Resize-11 cannot do both",
      'computed: its scales are computed, and the nearest rounding ONNX Runtime applied depends on whether each is below 1',
    ]);
    expect(model.opset('onnx')).toBe(10);
    expect(model.graph.nodeList().map((n) => n.op)).toEqual(['onnx.Resize', 'onnx.Abs', 'onnx.Resize']);
  });
});
