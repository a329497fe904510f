/**
 * torch.nn.GroupNorm as torch.onnx exports it (opset < 18): Reshape [N, G, -1] →
 * InstanceNormalization (scale/bias per group) → Reshape back (Shape(x) or a constant) → Mul γ →
 * Add β. legalize-tflite rewrites the three nodes into one GroupNormalization, lowered in
 * channels-last: the TFLite runtime must agree with ONNX Runtime on the original, and a
 * Conv → GroupNorm → Conv chain keeps no transpose inside (QA s12: a UNet had 10).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Tensor, type GraphBuilder, type Value } from '@modelpass/ir';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { countTransposes } from '@modelpass/tflite';
import { compareInRuntimes, feedsFor, legalize, seededTensor, singleInputModel, type SingleInputCase } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

const i64 = (values: number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

/** torch's GroupNorm(groups, channels) on x [N, C, H, W]; `back` says how the shape is restored. */
function torchGroupNorm(b: GraphBuilder, x: Value, groups: number, channels: number, seed: number, back: 'shape' | number[]): Value {
  const grouped = b.op1('onnx.Reshape', [x, b.constant(i64([0, groups, -1]))]);
  const norm = b.op1('onnx.InstanceNormalization', [grouped, b.constant(seededTensor([groups], seed, 0.5, 1.5)), b.constant(seededTensor([groups], seed + 1))], { epsilon: attrs.float(1e-5) });
  const shape = back === 'shape' ? b.op1('onnx.Shape', [x]) : b.constant(i64(back));
  const restored = b.op1('onnx.Reshape', [norm, shape]);
  const scaled = b.op1('onnx.Mul', [restored, b.constant(seededTensor([channels, 1, 1], seed + 2, 0.5, 1.5))]);
  return b.op1('onnx.Add', [scaled, b.constant(seededTensor([channels, 1, 1], seed + 3))]);
}

function convChain(back: 'shape' | number[]): SingleInputCase['build'] {
  return (b, x) => {
    const conv = b.op1('onnx.Conv', [x, b.constant(seededTensor([8, 3, 3, 3], 11, -0.5, 0.5))], { pads: attrs.ints([1, 1, 1, 1]) });
    const norm = torchGroupNorm(b, conv, 4, 8, 20, back);
    const act = b.op1('onnx.Mul', [norm, b.op1('onnx.Sigmoid', [norm])]);
    return b.op1('onnx.Conv', [act, b.constant(seededTensor([2, 8, 1, 1], 12, -0.5, 0.5))]);
  };
}

const CASES: (SingleInputCase & { name: string })[] = [
  { name: 'back to Shape(x)', input: [2, 3, 6, 5], opset: 13, build: convChain('shape') },
  { name: 'back to a constant shape', input: [1, 3, 6, 5], opset: 13, build: convChain([1, 8, 6, 5]) },
  { name: 'symbolic batch, back to Shape(x)', input: ['batch', 3, 6, 5], opset: 13, build: convChain('shape') },
];

describe('torch GroupNorm export → GroupNormalization in channels-last', () => {
  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const original = singleInputModel(testCase);
      const converted = singleInputModel(testCase);
      await legalize(converted, 'optimize=false');
      expect(converted.graph.nodeList().filter((node) => !node.op.startsWith('tflite.')).map((node) => node.op)).toEqual([]);
      const differences = await compareInRuntimes(original, converted, feedsFor(original, 7, [-2, 3]));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
      expect(countTransposes(converted.graph).inner).toBe(0);
    });
  }

  it('a Reshape that does not split the channels into the norm\'s groups is left alone (still agrees)', async () => {
    // [N, C, H, W] → [N, H, -1]: instance norm over rows, not channel groups.
    const testCase: SingleInputCase = {
      input: [1, 4, 3, 5],
      opset: 13,
      build: (b, x) => {
        const rows = b.op1('onnx.Reshape', [x, b.constant(i64([0, 3, -1]))]);
        const norm = b.op1('onnx.InstanceNormalization', [rows, b.constant(seededTensor([3], 30, 0.5, 1.5)), b.constant(seededTensor([3], 31))]);
        return b.op1('onnx.Reshape', [norm, b.op1('onnx.Shape', [x])]);
      },
    };
    const original = singleInputModel(testCase);
    const converted = singleInputModel(testCase);
    await legalize(converted, 'optimize=false');
    const differences = await compareInRuntimes(original, converted, feedsFor(original, 7));
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
  });
});
