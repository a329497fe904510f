import { describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, attrs, printModel, tensorType } from '@modelpass/ir';
import { analyzeCost, CostRules, createCostRules } from '@modelpass/ops';

function zeros(shape: number[]): Tensor {
  return Tensor.fromValues('float32', shape, new Array(shape.reduce((n, d) => n * d, 1)).fill(0.5));
}

/** Conv(1→16, 3×3, pad 1) + Relu + MaxPool 2 + Flatten + Gemm(3136→10, transB) on [N,1,28,28]. */
function smallCnn() {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', ['N', 1, 28, 28]));
  const w = g.constant(zeros([16, 1, 3, 3]), 'w');
  const b = g.constant(zeros([16]), 'b');
  const conv = g.op1('onnx.Conv', [x, w, b], { kernel_shape: attrs.ints([3, 3]), pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv' });
  const relu = g.op1('onnx.Relu', [conv], {}, { name: 'relu' });
  const pool = g.op1('onnx.MaxPool', [relu], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) }, { name: 'pool' });
  const flat = g.op1('onnx.Flatten', [pool], {}, { name: 'flatten' });
  const fw = g.constant(zeros([10, 16 * 14 * 14]), 'fw');
  const fb = g.constant(zeros([10]), 'fb');
  const fc = g.op1('onnx.Gemm', [flat, fw, fb], { transB: attrs.int(1) }, { name: 'fc', types: [tensorType('float32', ['N', 10])] }); // a declared symbolic output, as exporters write
  g.output(fc);
  return g.model({ onnx: 13 });
}

describe('analyzeCost', () => {
  it('counts MACs, FLOPs and parameters per layer from inferred shapes, assuming N = 1', () => {
    const model = smallCnn();
    const before = printModel(model);
    const cost = analyzeCost(model);
    const byName = Object.fromEntries(cost.layers.map((l) => [l.node, l]));
    expect(byName.conv).toEqual({ node: 'conv', op: 'onnx.Conv', macs: 16 * 28 * 28 * 9, flops: 2 * 16 * 28 * 28 * 9 + 16 * 28 * 28, parameters: 160 });
    expect(byName.relu!.flops).toBe(16 * 28 * 28);
    expect(byName.pool!.flops).toBe(16 * 14 * 14 * 4);
    expect(byName.flatten!.flops).toBe(0);
    expect(byName.fc).toMatchObject({ macs: 3136 * 10, flops: 2 * 3136 * 10 + 10, parameters: 31370 });
    expect(cost.parameters).toBe(160 + 31370);
    expect(cost.macs).toBe(16 * 28 * 28 * 9 + 31360);
    expect(cost.flops).toBe(cost.layers.reduce((n, l) => n + l.flops, 0));
    expect(cost.assumptions).toEqual(["input 'x' dim 0 'N' = 1"]);
    expect(cost.uncounted).toEqual([]);
    expect(printModel(model)).toBe(before); // types put back
  });

  it('scales with a given batch size and reports ops without a rule as uncounted', () => {
    const model = smallCnn();
    const one = analyzeCost(model);
    const eight = analyzeCost(model, { dims: { N: 8 } });
    expect(eight.macs).toBe(8 * one.macs);
    expect(eight.assumptions).toEqual([]);
    const rules = createCostRules();
    const withoutRelu = new CostRules();
    for (const op of rules.ops()) if (op !== 'onnx.Relu') withoutRelu.register(op, rules.get(op)!);
    const partial = analyzeCost(model, { rules: withoutRelu });
    expect(partial.uncounted).toEqual([{ node: 'relu', op: 'onnx.Relu', reason: 'no cost rule for this op' }]);
    expect(partial.flops).toBe(one.flops - 16 * 28 * 28);
  });

  it('counts MatMul over the shared dim with batch broadcasting and ConvTranspose per input element', () => {
    const g = new GraphBuilder();
    const a = g.input('a', tensorType('float32', [2, 5, 7]));
    const w = g.constant(zeros([7, 3]), 'w');
    const mm = g.op1('onnx.MatMul', [a, w], {}, { name: 'mm' });
    const img = g.input('img', tensorType('float32', [1, 4, 5, 5]));
    const tw = g.constant(zeros([4, 6, 3, 3]), 'tw');
    const ct = g.op1('onnx.ConvTranspose', [img, tw], { kernel_shape: attrs.ints([3, 3]) }, { name: 'ct' });
    g.output(mm);
    g.output(ct);
    const cost = analyzeCost(g.model({ onnx: 13 }));
    expect(cost.layers.find((l) => l.node === 'mm')!.macs).toBe(2 * 5 * 3 * 7);
    expect(cost.layers.find((l) => l.node === 'ct')!.macs).toBe(4 * 5 * 5 * 6 * 9);
    expect(() => analyzeCost(g.model({ onnx: 13 }), { dims: { N: 0 } })).toThrow(/dim 'N' must be a positive integer/);
  });

  it('names the first layer the assumed sizes cannot feed (a 7×7 stride-2 Conv over an assumed 1×1 image), and only then', () => {
    const g = new GraphBuilder();
    const x = g.input('x', tensorType('float32', ['N', 3, 'h', 'w']));
    const conv = g.op1('onnx.Conv', [x, g.constant(zeros([8, 3, 7, 7]), 'w')], { kernel_shape: attrs.ints([7, 7]), strides: attrs.ints([2, 2]) }, { name: 'stem' });
    g.output(g.op1('onnx.Relu', [conv], {}, { name: 'relu' }));
    const model = g.model({ onnx: 13 });
    const assumed = analyzeCost(model);
    expect(assumed.flops).toBe(0);
    expect(assumed.emptiedAt).toEqual({ node: 'stem', op: 'onnx.Conv', output: 'float32[1,8,0,0]' });
    const sized = analyzeCost(model, { dims: { h: 32, w: 32 } });
    expect(sized.emptiedAt).toBeUndefined();
    expect(sized.flops).toBeGreaterThan(0);
    expect(analyzeCost(smallCnn()).emptiedAt).toBeUndefined();
  });
});
