/**
 * io-layout=nhwc re-declares image inputs and outputs channels-last. A detector head reshaped after its
 * conv ([1,1,H,W] → [1,1,H·W] → [1,H·W,1], as MediaPipe's face detectors end) is carried by the layout
 * analysis, but its dims are no longer batch, channels, spatial: it must keep the shape the model gives it
 * (it was permuted to [1,1,H·W] before), while the image input and a plain conv output are still NHWC.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { compareModels, disposeSharedOrtRunner } from '@modelpass/runtime';
import { writeTflite } from '@modelpass/tflite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareInRuntimes, feedsFor, legalize, seededTensor } from './tflite-legalize-harness.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-nhwc-compare-'));
afterAll(() => {
  rmSync(temp, { recursive: true, force: true });
  return disposeSharedOrtRunner();
});

const ints = (values: number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

/** x [1,3,6,6] → Conv(3→4) → Relu → 'features' (an image output) and → Conv(4→1) → Reshape [1,1,36] → Reshape [1,36,1] → 'scores'. */
function detectorHead(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 3, 6, 6]));
  const features = b.op1('onnx.Relu', [b.op1('onnx.Conv', [x, b.constant(seededTensor([4, 3, 3, 3], 1), 'w1'), b.constant(seededTensor([4], 2), 'b1')], { pads: { kind: 'ints', value: [1, 1, 1, 1] } })], {}, { name: 'features' });
  const logits = b.op1('onnx.Conv', [features, b.constant(seededTensor([1, 4, 1, 1], 3), 'w2'), b.constant(seededTensor([1], 4), 'b2')]);
  const flat = b.op1('onnx.Reshape', [logits, b.constant(ints([1, 1, 36]), 'flat_shape')]);
  const scores = b.op1('onnx.Reshape', [flat, b.constant(ints([1, 36, 1]), 'scores_shape')], {}, { name: 'scores' });
  b.output(features, scores);
  const model = b.model({ onnx: 13 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

describe('legalize-tflite io-layout=nhwc with a reshaped head output', () => {
  it('keeps the reshaped output\'s shape and values; the image output becomes NHWC', async () => {
    const original = detectorHead();
    const converted = detectorHead();
    await legalize(converted, 'io-layout=nhwc');
    const [features, scores] = converted.graph.outputs;
    expect(features!.type).toMatchObject({ shape: [1, 6, 6, 4] });
    expect(scores!.type).toMatchObject({ shape: [1, 36, 1] });
    const differences = await compareInRuntimes(original, converted, feedsFor(original, 3), new Set(['x']));
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-5);
  });

  it('compareModels feeds the NHWC file channels-last and reads its image output back as NCHW, saying so; as-is it disagrees', async () => {
    const original = detectorHead();
    const converted = detectorHead();
    await legalize(converted, 'io-layout=nhwc');
    const file = join(temp, 'head.nhwc.tflite');
    writeTflite(converted, file);
    const report = await compareModels(original, file);
    expect(report.withinTolerance, JSON.stringify(report.perOutput)).toBe(true);
    expect(report.layoutNotes).toEqual([
      "input 'x' fed channels-last (NHWC) to the second model, which declares it so",
      "output 'features_0' of the second model read back from NHWC to NCHW",
    ]);
    await expect(compareModels(original, file, { layout: 'as-is' })).rejects.toThrow(/does not match the model/);
  });
});
