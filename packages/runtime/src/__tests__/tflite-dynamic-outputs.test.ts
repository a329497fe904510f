/**
 * Outputs of data-dependent length in the TFLite engine: a model whose output is WHERE's (NonZero
 * lowered by legalize-tflite) is loaded with the output's largest shape and gives each run's own
 * shape and values.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType, type Model } from '@modelpass/ir';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { TfliteEngine } from '@modelpass/runtime';
import { lowerToTflite } from '@modelpass/tflite';

const engine = new TfliteEngine();
afterAll(() => engine.dispose());

/** NonZero(x > 0) as float32 `[2, n]` for x `[batch, 3]` (`[1, 2, n]` with `leadingOne`), lowered to the tflite dialect. */
function positiveCoordinates(batch: number, leadingOne = false): Model {
  const registry = createOpRegistry();
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [batch, 3]));
  const positive = b.op1('onnx.Greater', [x, b.constant(Tensor.scalar('float32', 0))]);
  const coordinates = b.op1('onnx.Cast', [b.op1('onnx.NonZero', [positive])], { to: attrs.int(1) });
  b.output(leadingOne ? b.op1('onnx.Unsqueeze', [coordinates, b.constant(Tensor.fromValues('int64', [1], [0n]))]) : coordinates);
  const model = b.model({ onnx: 13 });
  inferShapes(model, { registry, mode: 'refresh' });
  lowerToTflite(model, registry);
  return model;
}

describe('TFLite engine: outputs of data-dependent length', () => {
  const model = positiveCoordinates(2);
  const output = (): string => model.graph.outputs[0]!.name;

  it('loads the output with its largest shape', () => {
    expect(engine.describe(model).outputs[0]!.shape).toEqual([2, 6]);
  });

  it('gives each run its own shape and values', async () => {
    const some = await engine.run(model, { x: Tensor.fromValues('float32', [2, 3], [1, -1, 2, -3, 0, 4]) });
    expect(some.get(output())!.shape).toEqual([2, 3]);
    expect(some.get(output())!.toNumbers()).toEqual([0, 0, 1, 0, 2, 2]);
    const all = await engine.run(model, { x: Tensor.fromValues('float32', [2, 3], [1, 1, 1, 1, 1, 1]) });
    expect(all.get(output())!.shape).toEqual([2, 6]);
    const none = await engine.run(model, { x: Tensor.fromValues('float32', [2, 3], [0, -1, 0, -1, 0, -1]) });
    expect(none.get(output())!.shape).toEqual([2, 0]);
  });

  it('refuses k samples run one by one when their output shapes differ', async () => {
    const one = positiveCoordinates(1, true);
    expect(engine.describe(one).outputs[0]!.shape).toEqual([1, 2, 3]);
    const error = await engine.run(one, { x: Tensor.fromValues('float32', [2, 3], [1, 1, -1, 1, -1, -1]) }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelpassError);
    expect((error as Error).message).toMatch(/data-dependent shape \(\[1,2,2\] for sample 0, \[1,2,1\] for sample 1\)/);
  });
});
