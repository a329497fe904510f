/**
 * pixel_shuffle(2) then pixel_unshuffle(2) — an identity — as torch 1.13 exports it (DepthToSpace CRD, then
 * Reshape → Transpose → Reshape) leaves neither DEPTH_TO_SPACE nor SPACE_TO_DEPTH after legalize-tflite; a pair whose
 * channel orders do not compose to the identity (DCR, then torch's unshuffle order) keeps both. The TFLite runtime
 * (TFLite 2.9) within 1e-4 of ONNX Runtime on the original.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { compareInRuntimes, feedsFor, legalize, seededTensor } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

const ints = (values: readonly number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

interface Case {
  readonly name: string;
  readonly mode: 'CRD' | 'DCR';
  /** What feeds and reads the pair: 3×3 Convs (8 channels in the middle) or Relus of the input. */
  readonly around: 'conv' | 'relu';
  readonly cancels: boolean;
}

/** [1, 8, 5, 6] → DepthToSpace(2, mode) → pixel_unshuffle(2) as torch 1.13 spells it → [1, 8, 5, 6]. */
function pairModel(testCase: Case): Model {
  const b = new GraphBuilder();
  const conv = (input: Value, inChannels: number, outChannels: number, seed: number): Value =>
    b.op1('onnx.Conv', [input, b.constant(seededTensor([outChannels, inChannels, 3, 3], seed), 'w'), b.constant(seededTensor([outChannels], seed + 1), 'b')], { pads: attrs.ints([1, 1, 1, 1]) });
  const x = b.input('x', tensorType('float32', [1, testCase.around === 'conv' ? 3 : 8, 5, 6]));
  const image = testCase.around === 'conv' ? conv(x, 3, 8, 1) : b.op1('onnx.Relu', [x]);
  const shuffled = b.op1('onnx.DepthToSpace', [image], { blocksize: attrs.int(2), mode: attrs.string(testCase.mode) });
  const split = b.op1('onnx.Reshape', [shuffled, b.constant(ints([1, 2, 5, 2, 6, 2]), 'split')]);
  const moved = b.op1('onnx.Transpose', [split], { perm: attrs.ints([0, 1, 3, 5, 2, 4]) });
  const unshuffled = b.op1('onnx.Reshape', [moved, b.constant(ints([1, 8, 5, 6]), 'merged')]);
  b.output(testCase.around === 'conv' ? conv(unshuffled, 8, 4, 11) : b.op1('onnx.Relu', [unshuffled]));
  const model = b.model({ onnx: 17 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

const cases: readonly Case[] = [
  { name: 'pixel_shuffle(2) → pixel_unshuffle(2) between Convs', mode: 'CRD', around: 'conv', cancels: true },
  { name: 'pixel_shuffle(2) → pixel_unshuffle(2) between Relus', mode: 'CRD', around: 'relu', cancels: true },
  { name: 'DepthToSpace DCR → pixel_unshuffle(2) (a channel permutation, kept)', mode: 'DCR', around: 'relu', cancels: false },
];

describe('legalize-tflite: a pixel shuffle and its inverse cancel', () => {
  for (const testCase of cases) {
    it(testCase.name, async () => {
      const original = pairModel(testCase);
      const converted = pairModel(testCase);
      await legalize(converted);
      const ops = converted.graph.nodeList().map((node) => node.op);
      expect(ops.filter((op) => !op.startsWith('tflite.'))).toEqual([]);
      const moves = ops.filter((op) => op === 'tflite.DEPTH_TO_SPACE' || op === 'tflite.SPACE_TO_DEPTH');
      expect(moves).toEqual(testCase.cancels ? [] : ['tflite.DEPTH_TO_SPACE', 'tflite.SPACE_TO_DEPTH']);
      if (testCase.cancels) expect(ops.filter((op) => op === 'tflite.GATHER')).toEqual([]);
      const differences = await compareInRuntimes(original, converted, feedsFor(original, 5));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
    });
  }
});
