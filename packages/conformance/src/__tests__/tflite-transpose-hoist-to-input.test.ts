/**
 * With io-layout=nchw the transposes of a conv net belong at its graph inputs/outputs. A reflect Pad right after
 * the input (Conv2d(padding_mode='reflect')) or a 1-D Conv's Unsqueeze to `[N, C, 1, L]` comes before the conv's
 * NCHW→NHWC transpose, and sinking only moves transposes down: one stayed inside (QA s12 5a). Now it is hoisted
 * to the input (the Pad's pads renumbered). TFLite runtime vs ORT; the transposes counted in the written model.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { compareInRuntimes, feedsFor, legalize, seededTensor } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

const ints = (value: number[]) => ({ kind: 'ints' as const, value });
const int64s = (values: number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

/** x [1,3,7,6] → Pad(reflect, 1 top / 2 bottom / 1 left / 0 right) → Conv(3→4, k3) → Relu. */
function reflectPadNet(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 3, 7, 6]));
  const padded = b.op1('onnx.Pad', [x, b.constant(int64s([0, 0, 1, 1, 0, 0, 2, 0]), 'pads')], { mode: { kind: 'string', value: 'reflect' } });
  const conv = b.op1('onnx.Conv', [padded, b.constant(seededTensor([4, 3, 3, 3], 1), 'w'), b.constant(seededTensor([4], 2), 'b')]);
  b.output(b.op1('onnx.Relu', [conv], {}, { name: 'y' }));
  const model = b.model({ onnx: 13 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

/** x [1,3,12] → Conv1d(3→2, k3, pad 1). */
function conv1dNet(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 3, 12]));
  b.output(b.op1('onnx.Conv', [x, b.constant(seededTensor([2, 3, 3], 3), 'w'), b.constant(seededTensor([2], 4), 'b')], { pads: ints([1, 1]) }, { name: 'y' }));
  const model = b.model({ onnx: 13 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

function transposes(model: Model): { inside: number; boundary: number } {
  let inside = 0;
  let boundary = 0;
  for (const node of model.graph.nodeList()) {
    if (node.op !== 'tflite.TRANSPOSE') continue;
    if (node.inputs[0]?.isGraphInput || node.outputs[0]?.isGraphOutput) boundary++;
    else inside++;
  }
  return { inside, boundary };
}

describe('legalize-tflite moves a transpose stuck behind an op at the input up to the input', () => {
  it.each([
    ['reflect Pad before a Conv2d', reflectPadNet],
    ['Conv1d (Unsqueeze before the 2-D conv)', conv1dNet],
  ] as const)('%s: only boundary transposes, TFLite agrees with ORT', async (_name, build) => {
    const original = build();
    const converted = build();
    const statistics = await legalize(converted);
    expect(transposes(converted)).toEqual({ inside: 0, boundary: 2 });
    expect(statistics.get('transposes-inside')).toBe(0);
    const differences = await compareInRuntimes(original, converted, feedsFor(original, 5));
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-5);
  });
});
