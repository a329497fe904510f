/**
 * ONNX Runtime (inference build) runs the gradient graphs of the less common geometries — grouped,
 * strided, dilated, padded Conv and ConvTranspose, overlapping MaxPool, AveragePool, Gather, Slice,
 * LayerNormalization — and gives the reference interpreter's gradients (themselves checked against
 * finite differences) in float32.
 */
import { attrs, GraphBuilder, Tensor, tensorType, type Value } from '@modelpass/ir';
import { runReference } from '@modelpass/ops';
import { runOrt } from '@modelpass/runtime';
import { buildGradientGraph } from '@modelpass/train';
import { describe, expect, it } from 'vitest';
import { seeded } from './gradcheck.js';

const f32 = (shape: number[]) => tensorType('float32', shape);
function random(rng: () => number, shape: number[]): Tensor {
  return Tensor.fromValues('float32', shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng() * 2 - 1));
}

const cases: Record<string, { opset?: number; build: (g: GraphBuilder, rng: () => number) => Value }> = {
  'grouped strided dilated Conv, then ConvTranspose with output_padding': {
    build: (g, rng) => {
      const x = g.input('x', f32([2, 4, 9, 8]));
      const conv = g.op1('onnx.Conv', [x, g.constant(random(rng, [6, 2, 3, 2]), 'w'), g.constant(random(rng, [6]), 'b')], { group: attrs.int(2), strides: attrs.ints([2, 1]), dilations: attrs.ints([2, 2]), pads: attrs.ints([1, 0, 2, 1]) });
      return g.op1('onnx.ConvTranspose', [g.op1('onnx.Tanh', [conv]), g.constant(random(rng, [6, 1, 2, 3]), 'wt')], { group: attrs.int(3), strides: attrs.ints([2, 2]), pads: attrs.ints([0, 1, 1, 0]), output_padding: attrs.ints([1, 0]) });
    },
  },
  'overlapping MaxPool, AveragePool, GlobalAveragePool': {
    build: (g, rng) => {
      const x = g.input('x', f32([2, 3, 7, 7]));
      const conv = g.op1('onnx.Conv', [x, g.constant(random(rng, [3, 3, 1, 1]), 'w')]);
      const pooled = g.op1('onnx.MaxPool', [conv], { kernel_shape: attrs.ints([3, 3]), strides: attrs.ints([2, 1]), pads: attrs.ints([1, 1, 1, 1]) });
      const averaged = g.op1('onnx.AveragePool', [pooled], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) });
      return g.op1('onnx.GlobalAveragePool', [averaged]);
    },
  },
  'embedding Gather, Slice with steps, LayerNormalization, Softmax': {
    opset: 17,
    build: (g, rng) => {
      const table = g.constant(random(rng, [10, 6]), 'table');
      const tokens = g.op1('onnx.Gather', [table, g.constant(Tensor.fromValues('int64', [2, 4], [1n, 3n, 3n, 9n, 0n, 1n, 1n, 1n]), 'ids')], { axis: attrs.int(0) });
      const mixed = g.op1('onnx.Add', [tokens, g.input('x', f32([2, 4, 6]))]);
      const ints = (v: number[]) => g.constant(Tensor.fromValues('int64', [v.length], v.map(BigInt)));
      const sliced = g.op1('onnx.Slice', [mixed, ints([5]), ints([0]), ints([2]), ints([-2])]);
      const normed = g.op1('onnx.LayerNormalization', [sliced, g.constant(random(rng, [3]), 'gamma'), g.constant(random(rng, [3]), 'beta')], { axis: attrs.int(-1) });
      return g.op1('onnx.Softmax', [normed], { axis: attrs.int(-1) });
    },
  },
};

describe('gradient graphs in ONNX Runtime', () => {
  for (const [name, { opset, build }] of Object.entries(cases)) {
    it(name, async () => {
      const rng = seeded(name.length);
      const g = new GraphBuilder();
      g.output(build(g, rng));
      const model = g.model({ onnx: opset ?? 13 });
      const training = buildGradientGraph(model, { loss: { kind: 'mse' }, wrt: ['x', ...model.graph.constants.filter((c) => c.type.kind === 'tensor' && c.type.dtype === 'float32').map((c) => c.name)] });
      const outputType = training.model.graph.getValue('target')!.type;
      const shape = outputType.kind === 'tensor' ? (outputType.shape as number[]) : [];
      const xType = model.graph.getValue('x')!.type;
      const feeds = { x: random(rng, xType.kind === 'tensor' ? (xType.shape as number[]) : []), target: random(rng, shape) };
      const ort = await runOrt(training.model, feeds);
      const reference = runReference(training.model, feeds);
      expect(training.gradients.size).toBeGreaterThan(1);
      for (const output of [training.loss, ...training.gradients.values()]) {
        const expected = (reference.get(output) as Tensor).toNumbers();
        const actual = ort.get(output)!.toNumbers();
        const scale = Math.max(1e-6, ...expected.map(Math.abs));
        const worst = Math.max(...expected.map((e, i) => Math.abs(e - actual[i]!)));
        expect(worst / scale, output).toBeLessThan(1e-4);
      }
    });
  }
});
