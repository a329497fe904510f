/**
 * Segmentation heads exported by torch with a dynamic batch (lraspp/deeplabv3/fcn): the final
 * Resize takes `sizes = Concat(Shape(x)[:2], Cast(Concat(H, W)))`, computed at run time, and the
 * graph output is declared with torch's own symbols ([batch, Resizey_dim_1, …]). Inference proves H
 * and W from the partly known sizes, so legalize-tflite writes a RESIZE_* with that constant size;
 * the TFLite runtime must agree with ONNX Runtime (QA s12: refused, 'sizes must be constants').
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Tensor, tensorType, type GraphBuilder, type Value } from '@modelpass/ir';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { countTransposes } from '@modelpass/tflite';
import { compareInRuntimes, feedsFor, legalize, seededTensor, singleInputModel, type SingleInputCase } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

const i64 = (values: number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

/** Conv, then a Resize to [N, C, outH, outW] whose sizes are computed from Shape() as torch exports them. */
function segmentationHead(outH: number, outW: number, mode: Record<string, ReturnType<typeof attrs.string>>): SingleInputCase['build'] {
  return (b: GraphBuilder, x: Value) => {
    const conv = b.op1('onnx.Conv', [x, b.constant(seededTensor([4, 3, 3, 3], 5, -0.5, 0.5))], { strides: attrs.ints([2, 2]), pads: attrs.ints([1, 1, 1, 1]) });
    const leading = b.op1('onnx.Slice', [b.op1('onnx.Shape', [conv]), b.constant(i64([0])), b.constant(i64([2])), b.constant(i64([0]))]);
    const spatial = b.op1('onnx.Cast', [b.op1('onnx.Concat', [b.constant(i64([outH])), b.constant(i64([outW]))], { axis: attrs.int(0) })], { to: attrs.int(7) });
    const sizes = b.op1('onnx.Concat', [leading, spatial], { axis: attrs.int(0) });
    return b.op1('onnx.Resize', [conv, null, null, sizes], mode);
  };
}

const CASES: (SingleInputCase & { name: string })[] = [
  { name: 'linear half_pixel, symbolic batch', input: ['batch', 3, 12, 10], opset: 13, build: segmentationHead(12, 10, { mode: attrs.string('linear') }) },
  { name: 'linear align_corners, static batch', input: [2, 3, 8, 8], opset: 13, build: segmentationHead(16, 16, { mode: attrs.string('linear'), coordinate_transformation_mode: attrs.string('align_corners') }) },
];

describe('Resize with sizes computed at run time', () => {
  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const original = singleInputModel(testCase);
      const converted = singleInputModel(testCase);
      // torch declares the output's data-dependent dims with symbols of its own.
      const output = converted.graph.outputs[0]!;
      output.type = tensorType('float32', [testCase.input[0]!, 'Resizey_dim_1', 'Resizey_dim_2', 'Resizey_dim_3']);
      await legalize(converted, 'optimize=false');
      expect(converted.graph.nodeList().filter((node) => !node.op.startsWith('tflite.')).map((node) => node.op)).toEqual([]);
      const differences = await compareInRuntimes(original, converted, feedsFor(original, 9));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
      expect(countTransposes(converted.graph).inner).toBe(0);
    });
  }
});
