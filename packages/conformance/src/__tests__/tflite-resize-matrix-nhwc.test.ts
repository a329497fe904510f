/**
 * Resizes no RESIZE_* builtin reproduces (bicubic as torch exports it, antialias, nearest
 * round_prefer_floor) between Convs through legalize-tflite: each resized axis of the NHWC image is a
 * BATCH_MATMUL by its constant interpolation matrix, so no transpose is left inside (a bicubic ×2
 * between two Convs kept 4: the layout pair around it and a pair to bring H last for FULLY_CONNECTED).
 * TFLite 2.9 vs ORT within 1e-4, batch 2 (the matrix is broadcast over it).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Attribute, type Model } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { countTransposes } from '@modelpass/tflite';
import { compareInRuntimes, feedsFor, legalize, seededTensor, singleInputModel } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

interface Case {
  readonly name: string;
  readonly size: readonly [number, number];
  /** Scales `[1, 1, sh, sw]`, or sizes `[N, C, H', W']` when given. */
  readonly scales?: readonly number[];
  readonly sizes?: readonly number[];
  readonly attributes: Record<string, Attribute>;
  readonly opset?: number;
}

function resizeModel(testCase: Case): Model {
  const b = new GraphBuilder();
  const [height, width] = testCase.size;
  const x = b.input('x', tensorType('float32', [2, 3, height, width]));
  const conv = (input: ReturnType<typeof b.op1>, inChannels: number, outChannels: number, seed: number) =>
    b.op1('onnx.Conv', [input, b.constant(seededTensor([outChannels, inChannels, 3, 3], seed), 'w'), b.constant(seededTensor([outChannels], seed + 1), 'b')], { pads: attrs.ints([1, 1, 1, 1]) });
  const image = b.op1('onnx.Relu', [conv(x, 3, 5, 1)]);
  const empty = b.constant(Tensor.fromValues('float32', [0], []), 'empty');
  const operands = testCase.sizes
    ? [image, empty, empty, b.constant(Tensor.fromValues('int64', [4], testCase.sizes.map((v) => BigInt(v))), 'sizes')]
    : [image, empty, b.constant(Tensor.fromValues('float32', [4], [...testCase.scales!]), 'scales')];
  const resized = b.op1('onnx.Resize', operands, testCase.attributes);
  b.output(conv(resized, 5, 4, 11));
  const model = b.model({ onnx: testCase.opset ?? 13 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

const cubic = { mode: attrs.string('cubic'), cubic_coeff_a: attrs.float(-0.75) };
const cases: readonly Case[] = [
  { name: "bicubic ×2 (torch's F.interpolate(mode='bicubic'))", size: [6, 5], scales: [1, 1, 2, 2], attributes: cubic },
  { name: 'bicubic align_corners, sizes 9×4 (W shrinks)', size: [6, 7], sizes: [2, 5, 9, 4], attributes: { ...cubic, coordinate_transformation_mode: attrs.string('align_corners') } },
  { name: 'cubic of H only (scales 1.5 × 1)', size: [4, 6], scales: [1, 1, 1.5, 1], attributes: cubic },
  { name: 'cubic downscale with antialias', size: [8, 9], sizes: [2, 5, 3, 5], attributes: { mode: attrs.string('cubic'), antialias: attrs.int(1) }, opset: 18 },
  { name: 'nearest round_prefer_floor ×1.5', size: [4, 6], scales: [1, 1, 1.5, 1.5], attributes: {} },
  { name: 'cubic of W only (scales 1 × 2), between Convs', size: [4, 5], scales: [1, 1, 1, 2], attributes: cubic },
];

describe('legalize-tflite: interpolation-matrix resizes in NHWC, no transpose inside', () => {
  it('a rank-4 tensor with no image around it, resized along W alone, stays one FULLY_CONNECTED: no transpose at all', async () => {
    const build = () =>
      singleInputModel({
        input: [2, 3, 4, 6],
        opset: 13,
        build: (b, x) => b.op1('onnx.Resize', [b.op1('onnx.Relu', [x]), b.constant(Tensor.fromValues('float32', [0], [])), b.constant(Tensor.fromValues('float32', [4], [1, 1, 1, 2]))], cubic),
      });
    const original = build();
    const converted = build();
    await legalize(converted);
    const ops = converted.graph.nodeList().map((node) => node.op);
    expect(ops).toContain('tflite.FULLY_CONNECTED');
    expect(countTransposes(converted.graph)).toEqual({ inner: 0, boundary: 0 });
    const differences = await compareInRuntimes(original, converted, feedsFor(original, 5));
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
  });

  for (const testCase of cases) {
    it(testCase.name, async () => {
      const original = resizeModel(testCase);
      const converted = resizeModel(testCase);
      const statistics = await legalize(converted);
      const ops = converted.graph.nodeList().map((node) => node.op);
      expect(ops).toContain('tflite.BATCH_MATMUL');
      expect(countTransposes(converted.graph)).toEqual({ inner: 0, boundary: 2 });
      expect(statistics.get('transposes-inside')).toBe(0);
      const differences = await compareInRuntimes(original, converted, feedsFor(original, 5));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
      const channelsLast = resizeModel(testCase);
      await legalize(channelsLast, 'io-layout=nhwc');
      expect(countTransposes(channelsLast.graph)).toEqual({ inner: 0, boundary: 0 });
    });
  }
});
