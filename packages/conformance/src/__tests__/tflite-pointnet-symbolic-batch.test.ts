/**
 * PointNet's input transform with a symbolic batch (QA 6a: 1 transpose inside): x `[N, 3, P]` feeds a 1×1
 * Conv1d (whose Unsqueeze → NHWC transpose reads the graph input), `Shape(x)[0]` (the batch, for the 3×3
 * transform's Reshape) and `bmm(xᵀ, T)`. The conv's input transpose moves only the unit dim and the batch,
 * which stays in place: hoisted to the input like a static batch's, so none is left inside. TFLite 2.9 vs
 * ORT within 1e-4.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Tensor, type GraphBuilder, type Value } from '@modelpass/ir';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { countTransposes } from '@modelpass/tflite';
import { compareInRuntimes, feedsFor, legalize, seededTensor, singleInputModel } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

const i64 = (values: readonly number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

function conv1x1(b: GraphBuilder, x: Value, inChannels: number, outChannels: number, seed: number): Value {
  return b.op1('onnx.Conv', [x, b.constant(seededTensor([outChannels, inChannels, 1], seed, -0.5, 0.5)), b.constant(seededTensor([outChannels], seed + 1))]);
}

const POINTS = 16;

/** x [N, 3, P] → 1×1 Conv1d → max over points → Reshape [Shape(x)[0], 3, 3] = T; bmm(xᵀ, T)ᵀ → 1×1 Conv1d. */
function pointNetInputTransform() {
  return singleInputModel({
    input: ['batch', 3, POINTS],
    opset: 13,
    build: (b, x) => {
      const features = b.op1('onnx.Relu', [conv1x1(b, x, 3, 9, 1)]);
      const pooled = b.op1('onnx.ReduceMax', [features], { axes: attrs.ints([2]), keepdims: attrs.int(0) });
      const batch = b.op1('onnx.Unsqueeze', [b.op1('onnx.Gather', [b.op1('onnx.Shape', [x]), b.constant(Tensor.scalar('int64', 0n))], { axis: attrs.int(0) }), b.constant(i64([0]))]);
      const transform = b.op1('onnx.Reshape', [pooled, b.op1('onnx.Concat', [batch, b.constant(i64([3, 3]))], { axis: attrs.int(0) })]);
      const moved = b.op1('onnx.MatMul', [b.op1('onnx.Transpose', [x], { perm: attrs.ints([0, 2, 1]) }), transform]);
      return conv1x1(b, b.op1('onnx.Transpose', [moved], { perm: attrs.ints([0, 2, 1]) }), 3, 4, 11);
    },
  });
}

describe('legalize-tflite: PointNet input transform with a symbolic batch', () => {
  it('keeps no transpose inside (was 1); io-layout=nhwc none at all; agrees with ORT', async () => {
    const original = pointNetInputTransform();
    const converted = pointNetInputTransform();
    const statistics = await legalize(converted);
    expect(countTransposes(converted.graph).inner).toBe(0);
    expect(statistics.get('transposes-inside')).toBe(0);
    const differences = await compareInRuntimes(original, converted, feedsFor(original, 5));
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
    const channelsLast = pointNetInputTransform();
    await legalize(channelsLast, 'io-layout=nhwc');
    expect(countTransposes(channelsLast.graph)).toEqual({ inner: 0, boundary: 0 });
  });
});
