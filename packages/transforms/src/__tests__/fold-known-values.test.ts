// fold-shapes' arithmetic taking the values shape inference computed (legalize-tflite's single inference round)
// instead of running the reference kernels again: the same constants, and the kernel only where inference
// did not know the value or knew it with another dtype/shape than the output declares.
import { attrs, GraphBuilder, Tensor, tensorType, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { foldShapeArithmetic } from '@modelpass/transforms';
import { describe, expect, it } from 'vitest';

const i64 = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

/** x [2, 3, 8] → Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): the exported flatten of a transformer's head. */
function flattenModel() {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 3, 8]));
  const batch = b.op1('onnx.Gather', [b.op1('onnx.Shape', [x]), b.constant(Tensor.scalar('int64', 0n))], { axis: attrs.int(0) });
  const target = b.op1('onnx.Concat', [b.op1('onnx.Unsqueeze', [batch, b.constant(i64([0]))]), b.constant(i64([-1]))], { axis: attrs.int(0) });
  b.output(b.op1('onnx.Reshape', [x, target]));
  return b.model({ onnx: 17 });
}

const targetOf = (model: ReturnType<typeof flattenModel>) => model.graph.nodeList().find((node) => node.op === 'onnx.Reshape')!.inputs[1]!;

describe('fold-shapes with the values shape inference computed', () => {
  it('inferShapes reports the shape arithmetic it evaluated or propagated', () => {
    const model = flattenModel();
    const known = inferShapes(model).knownConstant;
    const target = targetOf(model);
    expect(known(target)?.toNumbers()).toEqual([2, -1]);
    expect(known(target)?.dtype).toBe('int64');
    expect(known(model.graph.inputs[0]!)).toBeUndefined();
  });

  it('folds to the same constants as the kernels, taking the known tensors', () => {
    const byKernel = flattenModel();
    inferShapes(byKernel);
    foldShapeArithmetic(byKernel, { debug: () => {} });
    const byKnown = flattenModel();
    const inferred = inferShapes(byKnown);
    const taken: Tensor[] = [];
    const known = (value: Value) => {
      const tensor = inferred.knownConstant(value);
      if (tensor) taken.push(tensor);
      return tensor;
    };
    const result = foldShapeArithmetic(byKnown, { known, debug: () => {} });
    expect(result.nodesFolded).toBe(3); // Gather, Unsqueeze, Concat (the Shape itself by its static dims)
    expect(taken).toHaveLength(3);
    expect(byKnown.graph.nodeList().map((node) => node.op)).toEqual(['onnx.Reshape']);
    expect(targetOf(byKnown).constant).toBe(taken[2]); // the very tensor inference built: no kernel ran
    expect(targetOf(byKnown).constant!.toNumbers()).toEqual(targetOf(byKernel).constant!.toNumbers());
    expect(targetOf(byKnown).name).toBe(targetOf(byKernel).name);
  });

  it('runs the kernel where the known tensor does not match the declared output', () => {
    const model = flattenModel();
    inferShapes(model);
    // A stale or wrong value (another shape than the Concat output's [2]) is not taken.
    const wrong = (value: Value) => (value.producer?.op === 'onnx.Concat' ? i64([7, 7, 7]) : undefined);
    foldShapeArithmetic(model, { known: wrong, debug: () => {} });
    expect(targetOf(model).constant!.toNumbers()).toEqual([2, -1]);
  });

  it('a known tensor of the declared type is what the folded constant holds', () => {
    const model = flattenModel();
    inferShapes(model);
    // Proves the kernel is not consulted: a (deliberately different) known value of the right type wins.
    const planted = (value: Value) => (value.producer?.op === 'onnx.Concat' ? i64([5, 9]) : undefined);
    foldShapeArithmetic(model, { known: planted, debug: () => {} });
    expect(targetOf(model).constant!.toNumbers()).toEqual([5, 9]);
  });
});
