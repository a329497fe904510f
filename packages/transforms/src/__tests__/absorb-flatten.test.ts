import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, tensorType, type Model } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { sinkTransposes } from '@modelpass/transforms';
import { evaluate, expectClose, randomTensor } from './helpers.js';

/** x[dims] → Transpose(perm) → Flatten → MatMul(W) — the NHWC feature map before a classifier head. */
function headModel(dims: number[], perm: number[]): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', dims));
  const features = dims.slice(1).reduce((n, d) => n * d, 1);
  const transposed = b.op1('onnx.Transpose', [x], { perm: attrs.ints(perm) });
  const flat = b.op1('onnx.Flatten', [transposed], { axis: attrs.int(1) });
  b.output(b.op1('onnx.MatMul', [flat, b.constant(randomTensor([features, 5], 3), 'w')]));
  const model = b.model({ onnx: 17 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

describe('sink-transposes absorbs a transpose before Flatten → MatMul into the weight', () => {
  const cases: [string, number[], number[], boolean][] = [
    ['features reordered (NCHW → NHWC)', [2, 3, 2, 4], [0, 2, 3, 1], true],
    ['only size-1 dims move (a pooled map)', [2, 6, 1, 1], [0, 2, 3, 1], false],
    ['size-1 dims between moved ones', [1, 3, 1, 4], [0, 3, 2, 1], true],
    ['order kept around a size-1 dim', [2, 3, 1, 4], [0, 2, 1, 3], false],
  ];
  for (const [title, dims, perm, permutesWeight] of cases) {
    it(`${title}: same results, no transpose left, the weight ${permutesWeight ? 'permuted' : 'kept as it is'}`, () => {
      const model = headModel(dims, perm);
      const x = randomTensor(dims, 7);
      const before = evaluate(model, { x });
      const weightBefore = model.graph.constants.find((c) => c.name === 'w')!;
      const result = sinkTransposes(model);
      expect(result.absorbed).toBe(1);
      expect(model.graph.nodeList().map((node) => node.op)).toEqual(['onnx.Flatten', 'onnx.MatMul']);
      const weightAfter = model.graph.nodeList()[1]!.inputs[1]!;
      expect(weightAfter === weightBefore).toBe(!permutesWeight);
      expectClose(evaluate(model, { x })[0]!, before[0]!, 1e-5);
    });
  }
});
