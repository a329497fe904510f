import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { sinkTransposes, splitForReshape } from '@modelpass/transforms';
import { evaluate, expectClose, randomTensor } from './helpers.js';

describe('splitForReshape', () => {
  it("splits ShuffleNet's NHWC shuffle into the shuffle itself and a transpose the merge can take", () => {
    expect(splitForReshape([1, 24, 2, 28, 28], [1, 48, 28, 28], [0, 4, 3, 1, 2])).toEqual({ first: [0, 1, 2, 4, 3], rest: [0, 3, 4, 1, 2] });
  });
  it('declines when the Reshape takes the permutation as it is, or when its dims cannot be paired', () => {
    expect(splitForReshape([1, 2, 24, 28, 28], [1, 48, 28, 28], [0, 3, 4, 1, 2])).toBeUndefined();
    expect(splitForReshape([1, 6, 4], [1, 4, 6], [0, 2, 1])).toBeUndefined();
  });
});

/** `x` NHWC → NCHW, ShuffleNet's channel shuffle (groups 2), two channel halves each back to NHWC. */
function shuffleBlock(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 5, 5, 12]));
  const nchw = b.op1('onnx.Transpose', [x], { perm: attrs.ints([0, 3, 1, 2]) });
  const split = b.op1('onnx.Reshape', [nchw, b.constant(Tensor.fromValues('int64', [5], [1n, 2n, 6n, 5n, 5n]), 'split_shape')]);
  const shuffled = b.op1('onnx.Transpose', [split], { perm: attrs.ints([0, 2, 1, 3, 4]) });
  const merged = b.op1('onnx.Reshape', [shuffled, b.constant(Tensor.fromValues('int64', [4], [1n, 12n, 5n, 5n]), 'merge_shape')]);
  const halves = b.op('onnx.Split', [merged, b.constant(Tensor.fromValues('int64', [2], [6n, 6n]), 'sizes')], { axis: attrs.int(1) }, { outputs: 2 });
  const relu = b.op1('onnx.Relu', [halves[0]!]);
  const out0 = b.op1('onnx.Transpose', [relu], { perm: attrs.ints([0, 2, 3, 1]) });
  const out1 = b.op1('onnx.Transpose', [halves[1]!], { perm: attrs.ints([0, 2, 3, 1]) });
  b.output(out0, out1);
  const model = b.model({ onnx: 17 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

describe('sinkTransposes through a channel shuffle', () => {
  it('leaves only the shuffle itself, in NHWC, and computes the same values', () => {
    const model = shuffleBlock();
    const x = randomTensor([1, 5, 5, 12], 3);
    const before = evaluate(model, { x });
    const result = sinkTransposes(model);
    const transposes = model.graph.nodeList().filter((node) => node.op === 'onnx.Transpose');
    expect(transposes.map((node) => node.attr('perm', 'ints'))).toEqual([[0, 1, 2, 4, 3]]);
    expect(result.remaining).toBe(1);
    const after = evaluate(model, { x });
    before.forEach((tensor, i) => expectClose(tensor, after[i]!));
  });
});
