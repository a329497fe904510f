// fold-shapes walks again only when a query it could not answer reads a value the fold replaced: a Shape of a
// dynamic input reads the same input after the fold, so it no longer costs a second walk and fold of the graph.
import { attrs, GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { foldShapeArithmetic } from '@modelpass/transforms';
import { describe, expect, it } from 'vitest';

const i64 = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

/**
 * x [N, 3, 8]: Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), Sub([0], [1]))) keeps its dynamic Shape once the Sub is folded, and a
 * ConstantOfShape of 160 KB (over fold-shapes' 64 KiB cap) is refused with a debug message each time a walk meets it.
 */
function dynamicBatchModel() {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', ['N', 3, 8]));
  const batch = b.op1('onnx.Gather', [b.op1('onnx.Shape', [x]), b.constant(Tensor.scalar('int64', 0n))], { axis: attrs.int(0) });
  const rest = b.op1('onnx.Sub', [b.constant(i64([0])), b.constant(i64([1]))]); // [-1], folded in the first round
  const target = b.op1('onnx.Concat', [b.op1('onnx.Unsqueeze', [batch, b.constant(i64([0]))]), rest], { axis: attrs.int(0) });
  b.output(b.op1('onnx.Reshape', [x, target]));
  b.output(b.op1('onnx.ConstantOfShape', [b.constant(i64([200, 100]))], { value: attrs.tensor(Tensor.fromValues('int64', [1], [7n])) }));
  return b.model({ onnx: 17 });
}

/** x [N, 3, 8]: Gather(Shape(x), Add(0, 1)) — its index is a constant only once the Add is folded. */
function computedIndexModel() {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', ['N', 3, 8]));
  const index = b.op1('onnx.Add', [b.constant(Tensor.scalar('int64', 0n)), b.constant(Tensor.scalar('int64', 1n))]);
  b.output(b.op1('onnx.Gather', [b.op1('onnx.Shape', [x]), index], { axis: attrs.int(0) }));
  return b.model({ onnx: 17 });
}

describe('fold-shapes rounds', () => {
  it('does not walk again when the queries left read the values they read before', () => {
    const model = dynamicBatchModel();
    const inferred = inferShapes(model);
    const messages: string[] = [];
    const result = foldShapeArithmetic(model, { known: inferred.knownConstant, debug: (message) => messages.push(message) });
    // One walk met the oversized ConstantOfShape (the old loop walked twice, refusing it twice).
    expect(messages.filter((message) => message.includes("left onnx.ConstantOfShape") && message.includes('exceeds max-size'))).toHaveLength(1);
    expect(result).toMatchObject({ shapesFolded: 0, nodesFolded: 1 });
    expect(model.graph.nodeList().map((node) => node.op)).toEqual(['onnx.Shape', 'onnx.Gather', 'onnx.Unsqueeze', 'onnx.Concat', 'onnx.Reshape', 'onnx.ConstantOfShape']);
  });

  it('walks again when the fold made a query answerable (a Gather of a Shape whose index it folded)', () => {
    const model = computedIndexModel();
    inferShapes(model);
    const result = foldShapeArithmetic(model, { debug: () => {} });
    expect(result).toMatchObject({ shapesFolded: 1, nodesFolded: 1 });
    expect(model.graph.nodeList().map((node) => node.op)).toEqual(['onnx.Constant']);
    expect(model.graph.nodeList()[0]!.attr('value', 'tensor').toNumbers()).toEqual([3]);
  });
});
