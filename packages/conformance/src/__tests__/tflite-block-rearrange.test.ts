/**
 * Pixel blocks moved into channels and back as exporters spell them (Reshape → Transpose → Reshape:
 * torch's pixel_unshuffle, pixel_shuffle before DepthToSpace existed, einops' rearrange) through
 * legalize-tflite: SPACE_TO_DEPTH / DEPTH_TO_SPACE in NHWC with no transpose inside; the channel
 * order folded into the neighbouring Conv's weights or, where there is none, one GATHER along the
 * channel axis; the TFLite runtime within 1e-4 of ORT on the original graph.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { countTransposes } from '@modelpass/tflite';
import { compareInRuntimes, feedsFor, legalize, seededTensor } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

const ints = (values: readonly number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

interface Case {
  readonly name: string;
  /** Channels, height, width of the image fed to the rearrangement. */
  readonly image: readonly [number, number, number];
  /** What makes the rearranged tensor: a 3×3 Conv from 3 channels, or a Relu of the graph input. */
  readonly before: 'conv' | 'relu';
  readonly split: readonly number[];
  readonly perm: readonly number[];
  readonly out: readonly number[];
  /** What reads the result: a 3×3 Conv, or a Relu then a 3×3 Conv. */
  readonly after: 'conv' | 'relu';
  readonly expected: 'SPACE_TO_DEPTH' | 'DEPTH_TO_SPACE';
  /** GATHERs left (the channel order when no Conv next to it can take it). */
  readonly gathers: number;
  /** The input's batch dim: 1 unless a symbolic name (then split and out start with -1). */
  readonly batch?: string;
}

function blockModel(testCase: Case): Model {
  const b = new GraphBuilder();
  const [channels, height, width] = testCase.image;
  const conv = (input: Value, inChannels: number, outChannels: number, seed: number): Value =>
    b.op1('onnx.Conv', [input, b.constant(seededTensor([outChannels, inChannels, 3, 3], seed), 'w'), b.constant(seededTensor([outChannels], seed + 1), 'b')], {
      pads: attrs.ints([1, 1, 1, 1]),
    });
  const x = b.input('x', tensorType('float32', [testCase.batch ?? 1, testCase.before === 'conv' ? 3 : channels, height, width]));
  const image = testCase.before === 'conv' ? conv(x, 3, channels, 1) : b.op1('onnx.Relu', [x]);
  const split = b.op1('onnx.Reshape', [image, b.constant(ints(testCase.split), 'split')]);
  const moved = b.op1('onnx.Transpose', [split], { perm: attrs.ints([...testCase.perm]) });
  const rearranged = b.op1('onnx.Reshape', [moved, b.constant(ints(testCase.out), 'merged')]);
  const read = testCase.after === 'conv' ? rearranged : b.op1('onnx.Relu', [rearranged]);
  b.output(conv(read, testCase.out[1]!, 4, 11));
  const model = b.model({ onnx: 13 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

const cases: readonly Case[] = [
  // torch 1.13 F.pixel_unshuffle(x, 2): channel c·b² + i·b + j (TFLite's SPACE_TO_DEPTH gives (i·b + j)·C + c).
  { name: 'pixel_unshuffle ×2 into a Conv', image: [8, 8, 8], before: 'conv', split: [1, 8, 4, 2, 4, 2], perm: [0, 1, 3, 5, 2, 4], out: [1, 32, 4, 4], after: 'conv', expected: 'SPACE_TO_DEPTH', gathers: 0 },
  { name: 'pixel_unshuffle ×3, 6×9, into a Relu', image: [5, 6, 9], before: 'relu', split: [1, 5, 2, 3, 3, 3], perm: [0, 1, 3, 5, 2, 4], out: [1, 45, 2, 3], after: 'relu', expected: 'SPACE_TO_DEPTH', gathers: 1 },
  // einops 'b c (h p) (w q) -> b (p q c) h w': exactly ONNX's SpaceToDepth order, no reordering at all.
  { name: "rearrange 'b c (h p) (w q) -> b (p q c) h w'", image: [3, 4, 6], before: 'relu', split: [1, 3, 2, 2, 3, 2], perm: [0, 3, 5, 1, 2, 4], out: [1, 12, 2, 3], after: 'relu', expected: 'SPACE_TO_DEPTH', gathers: 0 },
  // 'b c (h p) (w q) -> b (q c p) h w': a channel order neither DCR nor CRD.
  { name: "rearrange 'b c (h p) (w q) -> b (q c p) h w' into a Conv", image: [3, 4, 4], before: 'conv', split: [1, 3, 2, 2, 2, 2], perm: [0, 5, 1, 3, 2, 4], out: [1, 12, 2, 2], after: 'conv', expected: 'SPACE_TO_DEPTH', gathers: 0 },
  // pixel_shuffle as Reshape → Transpose → Reshape (CRD): after a Conv its output channels are reordered instead.
  { name: 'pixel_shuffle ×2 (CRD) after a Conv', image: [16, 4, 4], before: 'conv', split: [1, 4, 2, 2, 4, 4], perm: [0, 1, 4, 2, 5, 3], out: [1, 4, 8, 8], after: 'conv', expected: 'DEPTH_TO_SPACE', gathers: 0 },
  { name: 'pixel_shuffle ×2 (CRD) of a Relu', image: [12, 3, 5], before: 'relu', split: [1, 3, 2, 2, 3, 5], perm: [0, 1, 4, 2, 5, 3], out: [1, 3, 6, 10], after: 'relu', expected: 'DEPTH_TO_SPACE', gathers: 1 },
  // DCR (ONNX's DepthToSpace default, TFLite's DEPTH_TO_SPACE): no reordering.
  { name: 'depth to space ×3 (DCR) of a Relu', image: [18, 2, 3], before: 'relu', split: [1, 3, 3, 2, 2, 3], perm: [0, 3, 4, 1, 5, 2], out: [1, 2, 6, 9], after: 'relu', expected: 'DEPTH_TO_SPACE', gathers: 0 },
];

describe('legalize-tflite: pixel-block rearrangements as SPACE_TO_DEPTH / DEPTH_TO_SPACE, no transpose inside', () => {
  for (const testCase of cases) {
    it(testCase.name, async () => {
      const original = blockModel(testCase);
      const converted = blockModel(testCase);
      const statistics = await legalize(converted);
      const ops = converted.graph.nodeList().map((node) => node.op);
      expect(ops).toContain(`tflite.${testCase.expected}`);
      expect(ops.filter((op) => op === 'tflite.GATHER')).toHaveLength(testCase.gathers);
      expect(countTransposes(converted.graph)).toEqual({ inner: 0, boundary: 2 });
      expect(statistics.get('transposes-inside')).toBe(0);
      const differences = await compareInRuntimes(original, converted, feedsFor(original, 5));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
      const channelsLast = blockModel(testCase);
      await legalize(channelsLast, 'io-layout=nhwc');
      expect(countTransposes(channelsLast.graph)).toEqual({ inner: 0, boundary: 0 });
    });
  }

  // QA s14 round 7: torch exports a dynamic batch as -1 in both shapes; the batch infers as '?' after the first
  // Reshape. The match looped for ever (the batch digit's size was the symbol) before it carried the batch.
  const symbolicBatch: readonly Case[] = [
    { name: 'pixel_unshuffle ×3 with a symbolic batch, into a Conv', batch: 'n', image: [2, 9, 12], before: 'relu', split: [-1, 2, 3, 3, 4, 3], perm: [0, 1, 3, 5, 2, 4], out: [-1, 18, 3, 4], after: 'conv', expected: 'SPACE_TO_DEPTH', gathers: 0 },
    { name: 'pixel_shuffle ×3 (CRD) with a symbolic batch, after a Conv', batch: 'n', image: [27, 5, 7], before: 'conv', split: [-1, 3, 3, 3, 5, 7], perm: [0, 1, 4, 2, 5, 3], out: [-1, 3, 15, 21], after: 'conv', expected: 'DEPTH_TO_SPACE', gathers: 0 },
  ];
  for (const testCase of symbolicBatch) {
    it(testCase.name, async () => {
      const original = blockModel(testCase);
      const converted = blockModel(testCase);
      await legalize(converted);
      const ops = converted.graph.nodeList().map((node) => node.op);
      expect(ops).toContain(`tflite.${testCase.expected}`);
      expect(countTransposes(converted.graph)).toEqual({ inner: 0, boundary: 2 });
      const differences = await compareInRuntimes(original, converted, feedsFor(original, 5));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
    }, 60_000);
  }

  it('a Reshape → Transpose → Reshape that swaps the blocks of H and W is no block move: kept, the same numbers', async () => {
    // Rows' and columns' block digits trade places: not a SpaceToDepth or DepthToSpace of any order.
    const testCase: Case = { name: 'swap', image: [2, 4, 4], before: 'relu', split: [1, 2, 2, 2, 2, 2], perm: [0, 1, 2, 5, 4, 3], out: [1, 2, 4, 4], after: 'relu', expected: 'SPACE_TO_DEPTH', gathers: 0 };
    const original = blockModel(testCase);
    const converted = blockModel(testCase);
    await legalize(converted);
    const ops = converted.graph.nodeList().map((node) => node.op);
    expect(ops).not.toContain('tflite.SPACE_TO_DEPTH');
    expect(ops).not.toContain('tflite.DEPTH_TO_SPACE');
    const differences = await compareInRuntimes(original, converted, feedsFor(original, 5));
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
  });
});
