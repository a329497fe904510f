/**
 * simplify on a model whose operands inference proves impossible once it propagates values (passes fuzz s18,
 * simplify-axis-range.onnx: a Squeeze whose axes are Shape(x) = [2,3,5] over a rank-2 input; ONNX Runtime refuses it
 * at load). simplify used to log the refusal at debug level and fold on, leaving a node the verifier then found
 * invalid after the pass; now it stops with a ModelpassError naming the node. A valid model folds as before.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, ModelpassError, tensorType, verifyModel, type Model } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { simplify } from '@modelpass/transforms';
import { runPass } from './helpers.js';

/** y = Squeeze(x2d, axes = Shape(x3)): x3's shape is the axes list. */
function squeezeByShape(x3Dims: number[]): Model {
  const b = new GraphBuilder();
  const x2d = b.input('x2d', tensorType('float32', [1, 30]));
  const x3 = b.input('x3', tensorType('float32', x3Dims));
  b.output(b.op1('onnx.Squeeze', [x2d, b.op1('onnx.Shape', [x3], {}, { name: 'shape' })], {}, { name: 'squeeze', outputs: ['y'] }));
  return b.model({ onnx: 13 });
}

describe('simplify refuses operands inference proves impossible', () => {
  it('a Squeeze whose axes (from Shape) are out of range: a ModelpassError naming the node', async () => {
    const model = squeezeByShape([2, 3, 5]);
    expect(verifyModel(model, { registry: createOpRegistry() }).filter((d) => d.severity === 'error')).toEqual([]);
    const error = await runPass(simplify, model).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ModelpassError);
    const [d] = (error as ModelpassError).diagnostics;
    expect(d!.location?.node).toBe('squeeze');
    expect(d!.code).toBe('ops/axis-range');
  });

  it('a refusal resting on a stale declared intermediate type is not one: types are refreshed and simplify goes on', async () => {
    // Flatten(x [2,3,5]) computes [2,15] but is declared [2,1,1]; Reshape to Shape(x) = [2,3,5] is fine for [2,15].
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 3, 5]));
    const flat = b.op1('onnx.Flatten', [x], {}, { name: 'flatten' });
    flat.type = tensorType('float32', [2, 1, 1]);
    b.output(b.op1('onnx.Reshape', [flat, b.op1('onnx.Shape', [x])], {}, { name: 'reshape', outputs: ['y'] }));
    const model = b.model({ onnx: 13 });
    await runPass(simplify, model);
    expect(model.graph.nodeList().map((node) => node.op)).toEqual(['onnx.Flatten', 'onnx.Reshape']);
    expect(verifyModel(model, { registry: createOpRegistry() }).filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('the same graph with valid axes folds to one Squeeze of constant axes', async () => {
    const model = squeezeByShape([0]);
    await runPass(simplify, model);
    expect(model.graph.nodeList().map((node) => node.op)).toEqual(['onnx.Squeeze']);
    expect(verifyModel(model, { registry: createOpRegistry() }).filter((d) => d.severity === 'error')).toEqual([]);
  });
});
