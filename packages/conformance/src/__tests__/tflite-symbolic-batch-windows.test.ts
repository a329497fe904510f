/**
 * Dynamic-batch exports (torch's dynamic_axes={x: {0: 'batch'}}) of conv nets whose windows TFLite
 * needed fully static: ConvTranspose (2-D; a UNet's decoder) and the 3-D windows (r3d_18's Conv3d,
 * 3-D pools). Only the batch is symbolic; legalize-tflite must convert them (TRANSPOSE_CONV reads
 * the batch at run time, the pools' RESHAPEs take -1) and the TFLite runtime must agree with ONNX
 * Runtime (QA s12: refused 'TRANSPOSE_CONV needs static input and output shapes (H, W)' and
 * '3-D windows need static input and output shapes' although H and W were static).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs } from '@modelpass/ir';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { countTransposes } from '@modelpass/tflite';
import { compareInRuntimes, expectRefused, feedsFor, legalize, seededTensor, singleInputModel, type SingleInputCase } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

const f32 = (shape: number[], seed: number) => seededTensor(shape, seed, -0.5, 0.5);

const CASES: (SingleInputCase & { name: string; transposesInside?: number })[] = [
  {
    name: 'Conv → ConvTranspose stride 2 with pads (cropped) → Conv',
    input: ['batch', 3, 5, 6],
    build: (b, x) => {
      const conv = b.op1('onnx.Conv', [x, b.constant(f32([4, 3, 3, 3], 1))], { pads: attrs.ints([1, 1, 1, 1]) });
      const up = b.op1('onnx.ConvTranspose', [conv, b.constant(f32([4, 6, 3, 3], 2)), b.constant(f32([6], 3))], { strides: attrs.ints([2, 2]), pads: attrs.ints([1, 1, 1, 1]), output_padding: attrs.ints([1, 0]) });
      return b.op1('onnx.Conv', [up, b.constant(f32([2, 6, 1, 1], 4))]);
    },
    transposesInside: 0,
  },
  {
    name: 'ConvTranspose grouped (group 2), stride 2, no crop',
    input: ['batch', 4, 3, 3],
    build: (b, x) => b.op1('onnx.ConvTranspose', [x, b.constant(f32([4, 3, 2, 2], 5))], { group: attrs.int(2), strides: attrs.ints([2, 2]) }),
  },
  {
    name: 'Conv 3-D with explicit pads → Relu → Conv 3-D stride 2',
    input: ['batch', 3, 4, 6, 6],
    build: (b, x) => {
      const conv = b.op1('onnx.Conv', [x, b.constant(f32([4, 3, 3, 3, 3], 6)), b.constant(f32([4], 7))], { pads: attrs.ints([1, 1, 1, 1, 1, 1]) });
      return b.op1('onnx.Conv', [b.op1('onnx.Relu', [conv]), b.constant(f32([5, 4, 1, 3, 3], 8))], { strides: attrs.ints([1, 2, 2]), pads: attrs.ints([0, 1, 1, 0, 1, 1]) });
    },
    transposesInside: 0,
  },
  {
    name: 'MaxPool 3-D with explicit pads',
    input: ['batch', 3, 4, 5, 5],
    build: (b, x) => b.op('onnx.MaxPool', [x], { kernel_shape: attrs.ints([2, 3, 3]), strides: attrs.ints([2, 2, 2]), pads: attrs.ints([0, 1, 1, 0, 1, 1]) }, { outputs: 1 })[0]!,
  },
  {
    name: 'AveragePool 3-D SAME_UPPER',
    input: ['batch', 2, 4, 5, 6],
    build: (b, x) => b.op('onnx.AveragePool', [x], { kernel_shape: attrs.ints([3, 3, 3]), strides: attrs.ints([2, 2, 2]), auto_pad: attrs.string('SAME_UPPER') }, { outputs: 1 })[0]!,
  },
];

describe('legalize-tflite: windows with a symbolic batch', () => {
  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const original = singleInputModel(testCase);
      const converted = singleInputModel(testCase);
      await legalize(converted, 'optimize=false');
      expect(converted.graph.nodeList().filter((node) => !node.op.startsWith('tflite.')).map((node) => node.op)).toEqual([]);
      expect(converted.graph.inputs[0]!.type).toMatchObject({ shape: expect.arrayContaining(['batch']) });
      const differences = await compareInRuntimes(original, converted, feedsFor(original, 11));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
      if (testCase.transposesInside !== undefined) expect(countTransposes(converted.graph).inner).toBe(testCase.transposesInside);
    });
  }

  it('a 3-D ConvTranspose with a symbolic batch is refused by node, saying the batch must be static', async () => {
    const model = singleInputModel({ input: ['batch', 2, 3, 3, 3], build: (b, x) => b.op1('onnx.ConvTranspose', [x, b.constant(f32([2, 3, 2, 2, 2], 9))], { strides: attrs.ints([2, 2, 2]) }) });
    await expectRefused(model, [/ConvTranspose/, /needs a static batch/]);
  });
});
