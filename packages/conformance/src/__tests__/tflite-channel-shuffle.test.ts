/**
 * ShuffleNet's channel shuffle (Reshape → Transpose → Reshape, shapes computed from Shape(x) as torch
 * exports them with a symbolic batch) through legalize-tflite: one GATHER along the NHWC channel axis,
 * no TRANSPOSE anywhere, no run-time shape arithmetic left, and the TFLite runtime within 1e-4 of ORT.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { countTransposes } from '@modelpass/tflite';
import { compareInRuntimes, feedsFor, legalize, seededTensor } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

const ints = (values: number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

/** A ShuffleNet v2 unit after a 1×1 stem conv: halves, a 1×1 conv on the second, concat, shuffle in `groups`, then a 1×1 conv over all channels. */
function shuffleUnit(channels: number, groups: number, size: number): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', ['batch', channels, size, size]));
  const half = channels / 2;
  const conv = (input: Value, inChannels: number, outChannels: number, seed: number): Value =>
    b.op1('onnx.Conv', [input, b.constant(seededTensor([outChannels, inChannels, 1, 1], seed), 'w'), b.constant(seededTensor([outChannels], seed + 1), 'b')]);
  const stem = conv(x, channels, channels, 1);
  const [left, right] = b.op('onnx.Split', [stem, b.constant(ints([half, half]), 'halves')], { axis: attrs.int(1) }, { outputs: 2 });
  const branch = b.op1('onnx.Relu', [conv(right!, half, half, 11)]);
  const joined = b.op1('onnx.Concat', [left!, branch], { axis: attrs.int(1) });
  // torch: x.view(batch, groups, C/groups, H, W).transpose(1, 2).contiguous().view(batch, C, H, W), batch read from x.size(0)
  const batch = b.op1('onnx.Unsqueeze', [b.op1('onnx.Gather', [b.op1('onnx.Shape', [joined]), b.constant(Tensor.scalar('int64', 0n), 'zero')], { axis: attrs.int(0) }), b.constant(ints([0]), 'axes')]);
  const shape = (dims: number[]): Value => b.op1('onnx.Concat', [batch, b.constant(ints(dims), 'dims')], { axis: attrs.int(0) });
  const split = b.op1('onnx.Reshape', [joined, shape([groups, channels / groups, size, size])]);
  const swapped = b.op1('onnx.Transpose', [split], { perm: attrs.ints([0, 2, 1, 3, 4]) });
  const shuffled = b.op1('onnx.Reshape', [swapped, shape([channels, size, size])]);
  b.output(conv(shuffled, channels, channels, 21));
  const model = b.model({ onnx: 13 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

describe('legalize-tflite: channel shuffles become one GATHER, no transpose', () => {
  for (const [channels, groups] of [
    [8, 2],
    [24, 3],
    [48, 4],
  ] as const) {
    it(`${channels} channels in ${groups} groups`, async () => {
      const original = shuffleUnit(channels, groups, 5);
      const converted = shuffleUnit(channels, groups, 5);
      const statistics = await legalize(converted);
      const ops = converted.graph.nodeList().map((node) => node.op);
      expect(ops.filter((op) => op === 'tflite.GATHER')).toHaveLength(1);
      expect(ops.filter((op) => op === 'tflite.SHAPE' || op === 'tflite.RESHAPE')).toEqual([]);
      // io-layout=nchw: a TRANSPOSE at the image input and at the image output, none inside.
      expect(countTransposes(converted.graph)).toEqual({ inner: 0, boundary: 2 });
      expect(statistics.get('transposes-inside')).toBe(0);
      const differences = await compareInRuntimes(original, converted, feedsFor(original, 5));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
      // io-layout=nhwc: no transpose at all (the output comes straight from a CONV_2D).
      const channelsLast = shuffleUnit(channels, groups, 5);
      await legalize(channelsLast, 'io-layout=nhwc');
      expect(countTransposes(channelsLast.graph)).toEqual({ inner: 0, boundary: 0 });
      expect(channelsLast.graph.outputs[0]!.type).toMatchObject({ shape: ['batch', 5, 5, channels] });
    });
  }
  it('channel-shuffle=transpose keeps RESHAPE → TRANSPOSE → RESHAPE (one transpose inside), the same numbers', async () => {
    const original = shuffleUnit(24, 3, 5);
    const converted = shuffleUnit(24, 3, 5);
    await legalize(converted, 'channel-shuffle=transpose');
    expect(countTransposes(converted.graph)).toEqual({ inner: 1, boundary: 2 });
    const differences = await compareInRuntimes(original, converted, feedsFor(original, 5));
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
  });
});
