/**
 * Ops torchvision's swin_t exports that legalize-tflite refused: an Add broadcasting rank-5 operands
 * (its shifted-window attention mask) and Dropout(ratio 0, training_mode true); and one it wrote but
 * TFLite 2.9 could not load: a rank-6 Transpose (window partition; TRANSPOSE stops at 5-D). Judged like
 * tflite-legalize-ops-more.test.ts: the TFLite runtime within 1e-4 of ONNX Runtime, only tflite ops left.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Tensor, type Model } from '@modelpass/ir';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { compareInRuntimes, expectRefused, feedsFor, legalize, seededTensor, singleInputModel, type SingleInputCase } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

interface Case extends SingleInputCase {
  readonly name: string;
}

const CASES: Case[] = [
  {
    name: 'Add [1,4,3,5,5] + constant mask [1,4,1,5,5] (swin attention mask)',
    input: [1, 4, 3, 5, 5],
    build: (b, x) => b.op1('onnx.Add', [x, b.constant(seededTensor([1, 4, 1, 5, 5], 11), 'mask')]),
  },
  {
    name: 'Mul [2,3,4,5,6] by a computed [4,5,6] (shorter operand, not a constant)',
    input: [2, 3, 4, 5, 6],
    build: (b, x) => {
      const mean = b.op1('onnx.ReduceMean', [x], { axes: attrs.ints([0, 1]), keepdims: attrs.int(1) });
      const shorter = b.op1('onnx.Reshape', [mean, b.constant(Tensor.fromValues('int64', [3], [4n, 5n, 6n]), 'shape')]);
      return b.op1('onnx.Mul', [x, shorter]);
    },
  },
  {
    name: 'Where over rank-5 operands (three inputs: one SELECT_V2, not a chain)',
    input: [2, 3, 1, 4, 5],
    build: (b, x) => {
      const positive = b.op1('onnx.Greater', [x, b.constant(Tensor.scalar('float32', 0), 'zero')]);
      return b.op1('onnx.Where', [positive, b.constant(seededTensor([1, 1, 6, 4, 5], 8), 'then'), x]);
    },
  },
  {
    name: 'Max of three rank-5 operands with different broadcasts',
    input: [2, 3, 1, 4, 5],
    build: (b, x) => b.op1('onnx.Max', [x, b.constant(seededTensor([2, 3, 6, 4, 5], 5), 'full'), b.constant(seededTensor([1, 1, 6, 1, 1], 6), 'per_depth')]),
  },
  {
    name: "rank-6 Transpose (swin's window partition [1,4,3,4,3,5] by (0,1,3,2,4,5))",
    input: [1, 4, 3, 4, 3, 5],
    build: (b, x) => b.op1('onnx.Transpose', [x], { perm: attrs.ints([0, 1, 3, 2, 4, 5]) }),
  },
  {
    name: 'rank-6 Transpose with size-1 axes inside',
    input: [2, 1, 3, 4, 1, 5],
    build: (b, x) => b.op1('onnx.Transpose', [x], { perm: attrs.ints([5, 3, 4, 0, 2, 1]) }),
  },
  {
    name: 'Dropout(ratio 0, training_mode true) is the identity',
    input: [2, 3, 4],
    build: (b, x) => b.op1('onnx.Relu', [b.op1('onnx.Dropout', [x, b.constant(Tensor.scalar('float32', 0), 'ratio'), b.constant(Tensor.scalar('bool', true), 'training')])]),
  },
];

describe('legalize-tflite: rank-5 broadcasts and ratio-0 Dropout (TFLite runtime within 1e-4 of ONNX Runtime)', () => {
  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const original: Model = singleInputModel(testCase);
      const converted: Model = singleInputModel(testCase);
      await legalize(converted, 'optimize=false');
      expect(converted.graph.nodeList().filter((node) => !node.op.startsWith('tflite.')).map((node) => node.op)).toEqual([]);
      for (const difference of await compareInRuntimes(original, converted, feedsFor(original, 7))) expect(difference).toBeLessThanOrEqual(1e-4);
    });
  }
});

describe('legalize-tflite: what stays refused', () => {
  it('a rank-6 Transpose that moves 6 separate axes', () =>
    expectRefused(singleInputModel({ input: [2, 3, 2, 3, 2, 3], build: (b, x) => b.op1('onnx.Transpose', [x], { perm: attrs.ints([5, 4, 3, 2, 1, 0]) }, { name: 'reverse6' }) }), [
      /reverse6/,
      /moves 6 separate axes; TFLite 2.9's TRANSPOSE stops at 5-D/,
    ]));

  it('a rank-5 broadcast that does not merge into 4 dims', () =>
    expectRefused(singleInputModel({ input: [2, 1, 2, 1, 2], build: (b, x) => b.op1('onnx.Add', [x, b.constant(seededTensor([1, 2, 1, 2, 1], 3), 'alternating')], {}, { name: 'add5' }) }), [
      /add5/,
      /do not merge into 4 dims/,
    ]));

  it('Dropout with ratio 0.1 in training mode', () =>
    expectRefused(
      singleInputModel({ input: [2, 3], build: (b, x) => b.op1('onnx.Dropout', [x, b.constant(Tensor.scalar('float32', 0.1), 'ratio'), b.constant(Tensor.scalar('bool', true), 'training')], {}, { name: 'drop' }) }),
      [/drop/, /Dropout drops at random \(training_mode is not a constant false/],
    ));
});
