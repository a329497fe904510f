/**
 * A Conv1d over an image whose channels and rows a Reshape merged (`[N, C, H, W]` → `[N, C·H, W]`, as
 * CRNN-style recognizers feed their sequence model) through legalize-tflite: one CONV_2D as tall as the
 * image reads the NHWC image as it is, so no transpose is left inside (there were 2: back to NCHW for
 * the merge, then to NWC for the 1-D Conv), grouped too when each group holds whole input channels. Groups
 * that cut input channels apart keep the 1-D form, and its two transposes merge into one (the sinking hoists
 * a transpose above a Reshape → Unsqueeze chain). TFLite 2.9 vs ORT.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { countTransposes } from '@modelpass/tflite';
import { compareInRuntimes, feedsFor, legalize, seededTensor } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

interface Case {
  readonly name: string;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly out: number;
  readonly kernel: number;
  readonly pads: readonly [number, number];
  readonly stride?: number;
  readonly dilation?: number;
  readonly group?: number;
  readonly bias?: boolean;
  readonly inner: number;
}

function mergedRowsModel(testCase: Case): Model {
  const { channels, height, width, out, kernel, group = 1 } = testCase;
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 3, height, width]));
  const conv2d = b.op1('onnx.Conv', [x, b.constant(seededTensor([channels, 3, 3, 3], 1), 'w'), b.constant(seededTensor([channels], 2), 'b')], { pads: attrs.ints([1, 1, 1, 1]) });
  const image = b.op1('onnx.Relu', [conv2d]);
  const merged = b.op1('onnx.Reshape', [image, b.constant(Tensor.fromValues('int64', [3], [1n, BigInt(channels * height), BigInt(width)]), 'rows')]);
  const weights = b.constant(seededTensor([out, (channels * height) / group, kernel], 3), 'w1d');
  const operands = testCase.bias === false ? [merged, weights] : [merged, weights, b.constant(seededTensor([out], 4), 'b1d')];
  const conv1d = b.op1('onnx.Conv', operands, {
    pads: attrs.ints([...testCase.pads]),
    strides: attrs.ints([testCase.stride ?? 1]),
    dilations: attrs.ints([testCase.dilation ?? 1]),
    group: attrs.int(group),
  });
  b.output(b.op1('onnx.Relu', [conv1d]));
  const model = b.model({ onnx: 13 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

const cases: readonly Case[] = [
  { name: 'kernel 3, same padding', channels: 8, height: 4, width: 10, out: 6, kernel: 3, pads: [1, 1], inner: 0 },
  { name: 'stride 2, dilation 2, uneven pads, no bias', channels: 5, height: 3, width: 13, out: 4, kernel: 3, pads: [2, 1], stride: 2, dilation: 2, bias: false, inner: 0 },
  { name: 'kernel 1 (a per-column projection)', channels: 4, height: 6, width: 7, out: 9, kernel: 1, pads: [0, 0], inner: 0 },
  { name: 'group 2 (whole input channels per group)', channels: 8, height: 4, width: 10, out: 6, kernel: 3, pads: [1, 1], group: 2, inner: 0 },
  // Groups of 3 merged rows cut input channels apart (C = 3, H = 4, 4 groups): the 1-D form, one transpose inside (was 2).
  { name: 'group 4 splitting input channels: 1-D form, one transpose (was 2)', channels: 3, height: 4, width: 10, out: 8, kernel: 3, pads: [1, 1], group: 4, inner: 1 },
];

describe('legalize-tflite: a Conv1d over merged channels and rows', () => {
  for (const testCase of cases) {
    it(testCase.name, async () => {
      const original = mergedRowsModel(testCase);
      const converted = mergedRowsModel(testCase);
      const statistics = await legalize(converted);
      expect(countTransposes(converted.graph)).toEqual({ inner: testCase.inner, boundary: 2 });
      expect(statistics.get('transposes-inside')).toBe(testCase.inner);
      const differences = await compareInRuntimes(original, converted, feedsFor(original, 5));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
      const channelsLast = mergedRowsModel(testCase);
      await legalize(channelsLast, 'io-layout=nhwc');
      expect(countTransposes(channelsLast.graph)).toEqual({ inner: testCase.inner, boundary: 0 });
      // The output is declared NWC like any 1-D Conv's: [N, W', O].
      expect(channelsLast.graph.outputs[0]!.type).toMatchObject({ shape: [1, original.graph.outputs[0]!.type.kind === 'tensor' ? original.graph.outputs[0]!.type.shape![2] : 0, testCase.out] });
    });
  }
});
