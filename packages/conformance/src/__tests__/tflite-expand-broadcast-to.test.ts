/**
 * Expand with a static result is one BROADCAST_TO (version 2, which TFLite 2.9 runs), no RESHAPE + TILE: the TFLite
 * runtime's outputs must equal ONNX Runtime's on the original for floats, int64, bool, a target dim of 1 where the
 * input is larger, and a rank-6 result (TILE's route needed a RESHAPE to the result's rank first).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Tensor } from '@modelpass/ir';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import type { SingleInputCase } from './tflite-legalize-harness.js';
import { expectLegalizedAgrees } from './tflite-legalized-case.js';

afterAll(() => disposeSharedOrtRunner());

const i64 = (values: number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

const CASES: (SingleInputCase & { name: string })[] = [
  { name: 'float32 [3,1] → [2,3,4]', input: [3, 1], build: (b, x) => b.op1('onnx.Expand', [x, b.constant(i64([2, 3, 4]))]) },
  { name: 'float32 [2,3] with target [1,3] (a 1 where x is larger)', input: [2, 3], build: (b, x) => b.op1('onnx.Expand', [x, b.constant(i64([1, 3]))]) },
  { name: 'float32 [1,3,1,1,2,1] → rank 6', input: [1, 3, 1, 1, 2, 1], build: (b, x) => b.op1('onnx.Expand', [x, b.constant(i64([2, 3, 2, 1, 2, 3]))]) },
  {
    name: 'int64 [4] → [3,4]',
    input: [4],
    build: (b, x) => b.op1('onnx.Cast', [b.op1('onnx.Expand', [b.op1('onnx.Cast', [b.op1('onnx.Mul', [x, b.constant(Tensor.scalar('float32', 100))])], { to: attrs.int(7) }), b.constant(i64([3, 4]))])], { to: attrs.int(1) }),
  },
  {
    name: 'bool [2,1] → [2,5]',
    input: [2, 1],
    build: (b, x) => b.op1('onnx.Cast', [b.op1('onnx.Expand', [b.op1('onnx.Greater', [x, b.constant(Tensor.scalar('float32', 0))]), b.constant(i64([2, 5]))])], { to: attrs.int(1) }),
  },
];

describe('legalize-tflite: a static Expand is one BROADCAST_TO, equal to ONNX Runtime in TFLite 2.9', () => {
  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const converted = await expectLegalizedAgrees(testCase, { uses: ['BROADCAST_TO'], seed: 11, range: [-1, 1], tolerance: 0 });
      const ops = converted.graph.nodeList().map((node) => node.op);
      expect(ops.filter((op) => op === 'tflite.TILE' || op === 'tflite.RESHAPE')).toEqual([]);
    });
  }
});
