/** `withTypesRestored`: whatever inference fills in while `body` runs, every value's type is as before afterwards, a throw included. */
import { formatType, GraphBuilder, tensorType, UNKNOWN_TYPE, type Model } from '@modelpass/ir';
import { createOpRegistry, inferShapes, withTypesRestored } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

const registry = createOpRegistry();

/** y = Relu(Add(x, x)) with y's and the Add's types undeclared. */
function undeclaredModel(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 3]));
  const sum = b.op1('onnx.Add', [x, x], {}, { name: 'add', types: [UNKNOWN_TYPE] });
  b.output(b.op1('onnx.Relu', [sum], {}, { name: 'relu', outputs: ['y'], types: [UNKNOWN_TYPE] }));
  return b.model({ onnx: 17 });
}

const typesOf = (model: Model) => model.graph.nodeList().map((node) => formatType(node.outputs[0]!.type));

describe('withTypesRestored', () => {
  it('gives body the inferred types and puts the declared ones back', () => {
    const model = undeclaredModel();
    const before = typesOf(model);
    const during = withTypesRestored(model, () => {
      inferShapes(model, { registry });
      return typesOf(model);
    });
    expect(during).toEqual(['float32[2,3]', 'float32[2,3]']);
    expect(typesOf(model)).toEqual(before);
    expect(before).not.toEqual(during);
  });

  it('puts the types back when body throws', () => {
    const model = undeclaredModel();
    const before = typesOf(model);
    expect(() =>
      withTypesRestored(model, () => {
        inferShapes(model, { registry });
        throw new Error('after inference');
      }),
    ).toThrow('after inference');
    expect(typesOf(model)).toEqual(before);
  });
});
