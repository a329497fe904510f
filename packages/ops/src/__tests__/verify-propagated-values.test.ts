/**
 * Fuzz seed 1824 case 6031: a Reshape whose target the model computes from its input's shape (Shape → Slice →
 * Concat) and whose declared output contradicts that target passed `verifyModel` on the model as read; the
 * contradiction surfaced only after `simplify` folded the chain, blamed on the pass. With `propagatedValues`
 * the verifier sees the computed target on the input.
 */
import { attrs, GraphBuilder, printModel, Tensor, tensorType, verifyModel, type Model } from '@modelpass/ir';
import { createOpRegistry, propagatedValues } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

const registry = createOpRegistry();
const i64 = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map(BigInt));

/** y = Reshape(Flatten(x), Concat(Slice(Shape(x), 0, 1), Slice(Shape(x), 1, 4))), x [5,4,3,2], y declared `declared`. */
function shapeChainModel(declared: number[]): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [5, 4, 3, 2]));
  const shape = b.op1('onnx.Shape', [x], {}, { name: 'shape_of_x' });
  const head = b.op1('onnx.Slice', [shape, b.constant(i64([0]), 's0'), b.constant(i64([1]), 'e0')], {}, { name: 'head' });
  const tail = b.op1('onnx.Slice', [shape, b.constant(i64([1]), 's1'), b.constant(i64([4]), 'e1')], {}, { name: 'tail' });
  const target = b.op1('onnx.Concat', [head, tail], { axis: attrs.int(0) }, { name: 'target' });
  const flat = b.op1('onnx.Flatten', [x], {}, { name: 'flat' });
  b.output(b.op1('onnx.Reshape', [flat, target], {}, { name: 'reshape', outputs: ['y'], types: [tensorType('float32', declared)] }));
  return b.model({ onnx: 17 });
}

const errors = (model: Model, known: boolean) =>
  verifyModel(model, { registry, ...(known ? { knownValues: propagatedValues(model, { registry }) } : {}) }).filter((d) => d.severity === 'error');

describe('the verifier with data the model computes from known shapes', () => {
  it('reports a declared output that contradicts a Reshape target computed from Shape(x), which plain verification cannot see', () => {
    const model = shapeChainModel([2, 3, 4, 5]);
    expect(errors(model, false)).toEqual([]);
    const [stale, ...rest] = errors(model, true);
    expect(rest).toEqual([]);
    expect(stale).toMatchObject({ code: 'verify/declared-shape', expected: 'float32[5,4,3,2]', actual: 'float32[2,3,4,5]', location: { node: 'reshape', op: 'onnx.Reshape' } });
    expect(stale!.reason).toMatch(/output #0 'y' is declared float32\[2,3,4,5\] but onnx.Reshape gives float32\[5,4,3,2\]/);
  });

  it("is what createOpRegistry's knownValuesOf gives (verify-each's default), in clones too", () => {
    const model = shapeChainModel([2, 3, 4, 5]);
    const viaRegistry = (from: typeof registry) => verifyModel(model, { registry: from, knownValues: from.knownValuesOf(model)! }).filter((d) => d.severity === 'error');
    expect(viaRegistry(registry)).toEqual(errors(model, true));
    expect(viaRegistry(createOpRegistry().clone()).map((d) => d.code)).toEqual(['verify/declared-shape']);
  });

  it('accepts a declaration that agrees, and leaves every type of the model as it was', () => {
    const model = shapeChainModel([5, 4, 3, 2]);
    const before = printModel(model);
    expect(errors(model, true)).toEqual([]);
    expect(printModel(model)).toBe(before);
    expect(model.graph.nodeList().find((n) => n.name === 'target')!.output().type.kind).toBe('unknown');
  });

  it('adds no refusal: a computed target that cannot fit is left to the passes and runtimes that compute it', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 3, 4]));
    const shape = b.op1('onnx.Shape', [x], {}, { name: 'shape_of_x' });
    const batch = b.op1('onnx.Slice', [shape, b.constant(i64([0]), 'starts'), b.constant(i64([1]), 'ends')], {}, { name: 'batch' });
    const target = b.op1('onnx.Concat', [batch, b.constant(i64([5]), 'last')], { axis: attrs.int(0) }, { name: 'target' });
    b.output(b.op1('onnx.Reshape', [x, target], {}, { name: 'bad_reshape', outputs: ['y'] }));
    const model = b.model({ onnx: 13 });
    expect(errors(model, true)).toEqual(errors(model, false));
  });
});
