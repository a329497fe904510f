/**
 * Ops legalize-tflite cannot map in some forms are refused per node, with the reason, before anything
 * changes: Unique along an axis of a rank > 1 tensor (TFLite's UNIQUE is 1-D), OneHot with a run-time depth.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, printModel, Tensor, tensorType, type Model } from '@modelpass/ir';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { lowerToTflite, registerTfliteDialect } from '@modelpass/tflite';

const registry = registerTfliteDialect(createOpRegistry());

function refusal(model: Model): { error: ModelpassError; unchanged: boolean } {
  const before = printModel(model);
  try {
    lowerToTflite(model, registry);
  } catch (caught) {
    expect(caught).toBeInstanceOf(ModelpassError);
    return { error: caught as ModelpassError, unchanged: printModel(model) === before };
  }
  throw new Error('expected a refusal');
}

describe('per-node refusals', () => {
  it('Unique along axis 1 of a rank-2 tensor', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 3]));
    b.output(b.op('onnx.Unique', [x], { axis: attrs.int(1) }, { count: 4, name: 'unique' })[0]!);
    const model = b.model({ onnx: 13 });
    inferShapes(model, { registry, mode: 'refresh' });
    const { error, unchanged } = refusal(model);
    const diagnostic = error.diagnostics.find((d) => d.location?.node === 'unique')!;
    expect(diagnostic.reason).toMatch(/Unique along axis 1 of a rank-2 tensor \(unique slices\) is not supported: TFLite's UNIQUE takes 1-D tensors/);
    expect(unchanged).toBe(true);
  });

  it('OneHot with a run-time depth', () => {
    const b = new GraphBuilder();
    const indices = b.input('indices', tensorType('int64', [3]));
    const depth = b.input('depth', tensorType('int64', [1]));
    b.output(b.op1('onnx.OneHot', [indices, depth, b.constant(Tensor.fromValues('float32', [2], [0, 1]))], { axis: attrs.int(-1) }, { name: 'one_hot' }));
    const model = b.model({ onnx: 13 });
    inferShapes(model, { registry, mode: 'refresh' });
    const { error, unchanged } = refusal(model);
    const diagnostic = error.diagnostics.find((d) => d.location?.node === 'one_hot')!;
    expect(diagnostic.reason).toMatch(/OneHot with a run-time depth \('depth'\) is not supported/);
    expect(unchanged).toBe(true);
  });
});
