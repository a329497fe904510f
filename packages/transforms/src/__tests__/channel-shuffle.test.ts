import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Dim, type GraphBuilder as Builder, type Model, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { axisShufflesAsGather, shuffleOrder } from '@modelpass/transforms';
import { evaluate, expectClose, randomTensor } from './helpers.js';

const ints = (values: number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

/** `x` → Reshape(split) → Transpose(perm) → Reshape(merge) → Relu, with the shapes given as constants or computed from Shape(x). */
function shuffleModel(input: Dim[], split: number[], perm: number[], merge: number[], options: { runtimeBatch?: boolean } = {}): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', input));
  const shapeOperand = (dims: number[]): Value => {
    if (!options.runtimeBatch) return b.constant(ints(dims), 'shape');
    // torch's spelling with a symbolic batch: Concat(Unsqueeze(Gather(Shape(x), 0)), the other dims)
    const batch = b.op1('onnx.Unsqueeze', [b.op1('onnx.Gather', [b.op1('onnx.Shape', [x]), b.constant(Tensor.scalar('int64', 0n), 'zero')], { axis: attrs.int(0) }), b.constant(ints([0]), 'axes')]);
    return b.op1('onnx.Concat', [batch, b.constant(ints(dims.slice(1)), 'rest')], { axis: attrs.int(0) });
  };
  const reshaped = b.op1('onnx.Reshape', [x, shapeOperand(split)], {}, { name: 'split' });
  const transposed = b.op1('onnx.Transpose', [reshaped], { perm: attrs.ints(perm) }, { name: 'shuffle' });
  const merged = b.op1('onnx.Reshape', [transposed, shapeOperand(merge)], {}, { name: 'merge' });
  b.output(b.op1('onnx.Relu', [merged]));
  const model = b.model({ onnx: 17 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

function ops(model: Model): string[] {
  return model.graph.nodeList().map((node) => node.op);
}

describe('shuffleOrder', () => {
  it("is ShuffleNet's channel shuffle for two groups of three", () => {
    // result channel a·2 + b reads source channel b·3 + a
    expect(shuffleOrder([2, 3], [1, 0])).toEqual([0, 3, 1, 4, 2, 5]);
  });
  it('handles three split dims in any order', () => {
    // parts [2,2,3] (strides 6, 3, 1) read in the order part 2, part 0, part 1: index j = (p2·2 + p0)·2 + p1
    const order = shuffleOrder([2, 2, 3], [2, 0, 1]);
    expect([...order].sort((p, q) => p - q)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(order.slice(0, 4)).toEqual([0, 3, 6, 9]);
  });
});

describe('axisShufflesAsGather', () => {
  const cases: { name: string; input: Dim[]; split: number[]; perm: number[]; merge: number[]; feed: number[]; runtimeBatch?: boolean }[] = [
    { name: 'channel shuffle, 2 groups (NCHW)', input: [1, 8, 3, 3], split: [1, 2, 4, 3, 3], perm: [0, 2, 1, 3, 4], merge: [1, 8, 3, 3], feed: [1, 8, 3, 3] },
    { name: 'channel shuffle, 3 groups, symbolic batch, shapes from Shape(x)', input: ['n', 12, 2, 5], split: [-1, 3, 4, 2, 5], perm: [0, 2, 1, 3, 4], merge: [-1, 12, 2, 5], feed: [2, 12, 2, 5], runtimeBatch: true },
    { name: 'last axis of a 3-D tensor split three ways', input: [2, 3, 12], split: [2, 3, 2, 2, 3], perm: [0, 1, 4, 2, 3], merge: [2, 3, 12], feed: [2, 3, 12] },
  ];
  for (const testCase of cases) {
    it(`${testCase.name}: one Gather, the same numbers`, () => {
      const model = shuffleModel(testCase.input, testCase.split, testCase.perm, testCase.merge, { runtimeBatch: testCase.runtimeBatch });
      const x = randomTensor(testCase.feed, 5);
      const [expected] = evaluate(model, { x });
      expect(axisShufflesAsGather(model.graph)).toBe(1);
      // The Reshapes, the Transpose and the shape arithmetic that fed only them are gone.
      expect(ops(model)).toEqual(['onnx.Gather', 'onnx.Relu']);
      expect(model.graph.constants.filter((c) => c.hasUses)).toHaveLength(1);
      const [actual] = evaluate(model, { x });
      expectClose(actual!, expected!, 0);
    });
  }

  const declined: { name: string; input: Dim[]; split: number[]; perm: number[]; merge: number[] }[] = [
    { name: 'the transpose also moves a spatial dim', input: [1, 8, 3, 3], split: [1, 2, 4, 3, 3], perm: [0, 2, 1, 4, 3], merge: [1, 8, 3, 3] },
    { name: 'the merge does not give back the input dims', input: [1, 8, 3, 3], split: [1, 2, 4, 3, 3], perm: [0, 2, 1, 3, 4], merge: [1, 8, 9] },
    { name: 'two axes are split', input: [1, 8, 4], split: [1, 2, 4, 2, 2], perm: [0, 2, 1, 4, 3], merge: [1, 8, 4] },
    { name: 'the split axis is symbolic', input: [1, 'c', 4], split: [1, 2, -1, 4], perm: [0, 2, 1, 3], merge: [1, -1, 4] },
  ];
  for (const testCase of declined) {
    it(`leaves the chain alone when ${testCase.name}`, () => {
      const model = shuffleModel(testCase.input, testCase.split, testCase.perm, testCase.merge);
      const before = ops(model);
      expect(axisShufflesAsGather(model.graph)).toBe(0);
      expect(ops(model)).toEqual(before);
    });
  }

  it('leaves the chain alone when the transposed value has another reader', () => {
    const b: Builder = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [1, 4, 2, 2]));
    const split = b.op1('onnx.Reshape', [x, b.constant(ints([1, 2, 2, 2, 2]))]);
    const transposed = b.op1('onnx.Transpose', [split], { perm: attrs.ints([0, 2, 1, 3, 4]) });
    const merged = b.op1('onnx.Reshape', [transposed, b.constant(ints([1, 4, 2, 2]))]);
    b.output(merged, transposed);
    const model = b.model({ onnx: 17 });
    inferShapes(model, { mode: 'refresh' });
    expect(axisShufflesAsGather(model.graph)).toBe(0);
  });
});
