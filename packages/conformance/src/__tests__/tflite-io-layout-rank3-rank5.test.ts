/**
 * io-layout=nhwc promises no Transpose at all for a conv net. A 1-D Conv is lowered as the 2-D one on
 * `[N, C, 1, L]` between an Unsqueeze and a Squeeze of the unit axis 2; that Squeeze used to be taken for a
 * regrouping by the model's author, so a Conv1d net's output stayed `[N, C, L]` behind a TRANSPOSE (QA s12 5a).
 * Each case: the TFLite runtime vs ORT through compareModels (which bridges channels-last ranks 3 and 5),
 * the output declared channels-last, and no TRANSPOSE left anywhere.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, tensorType, type Model } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { compareModels, disposeSharedOrtRunner } from '@modelpass/runtime';
import { writeTflite } from '@modelpass/tflite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { legalize, seededTensor } from './tflite-legalize-harness.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-nhwc-rank35-'));
afterAll(() => {
  rmSync(temp, { recursive: true, force: true });
  return disposeSharedOrtRunner();
});

const ints = (value: number[]) => ({ kind: 'ints' as const, value });

/** x [1,3,12] → Conv1d(3→4, k3, pad 1) → Relu → Conv1d(4→2, k3) → [1,2,10]. */
function conv1dNet(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 3, 12]));
  const h = b.op1('onnx.Relu', [b.op1('onnx.Conv', [x, b.constant(seededTensor([4, 3, 3], 1), 'w1'), b.constant(seededTensor([4], 2), 'b1')], { pads: ints([1, 1]) })]);
  const y = b.op1('onnx.Conv', [h, b.constant(seededTensor([2, 4, 3], 3), 'w2'), b.constant(seededTensor([2], 4), 'b2')], {}, { name: 'y' });
  b.output(y);
  const model = b.model({ onnx: 13 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

/** x [1,3,4,6,6] → Conv3d(3→2, k3, pad 1) → Relu. */
function conv3dNet(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 3, 4, 6, 6]));
  const conv = b.op1('onnx.Conv', [x, b.constant(seededTensor([2, 3, 3, 3, 3], 5), 'w'), b.constant(seededTensor([2], 6), 'b')], { pads: ints([1, 1, 1, 1, 1, 1]) });
  b.output(b.op1('onnx.Relu', [conv], {}, { name: 'y' }));
  const model = b.model({ onnx: 13 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

const transposeCount = (model: Model): number => model.graph.nodeList().filter((node) => node.op === 'tflite.TRANSPOSE').length;

describe('legalize-tflite io-layout=nhwc on rank-3 and rank-5 conv nets', () => {
  it.each([
    ['Conv1d', conv1dNet, [1, 12, 3], [1, 10, 2]],
    ['Conv3d', conv3dNet, [1, 4, 6, 6, 3], [1, 4, 6, 6, 2]],
  ] as const)('%s: input and output channels-last, no TRANSPOSE, TFLite agrees with ORT', async (name, build, inputShape, outputShape) => {
    const original = build();
    const converted = build();
    const statistics = await legalize(converted, 'io-layout=nhwc');
    expect(converted.graph.inputs[0]!.type).toMatchObject({ shape: inputShape });
    expect(converted.graph.outputs[0]!.type).toMatchObject({ shape: outputShape });
    expect(transposeCount(converted)).toBe(0);
    expect(statistics.get('transposes-inside')).toBe(0);
    expect(statistics.get('transposes-at-boundary')).toBe(0);
    const file = join(temp, `${name}.nhwc.tflite`);
    writeTflite(converted, file);
    const report = await compareModels(original, file);
    expect(report.withinTolerance, JSON.stringify(report.perOutput)).toBe(true);
    expect(report.layoutNotes).toContain("input 'x' fed channels-last (NHWC) to the second model, which declares it so");
  });
});
