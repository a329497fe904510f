/**
 * Dilated 2-D MaxPool (torch's F.max_pool2d(dilation=…)), which TFLite's MAX_POOL_2D cannot say: legalize-tflite
 * writes it as the MAXIMUM of the kernel's taps, each a STRIDED_SLICE of the input padded with the lowest
 * float32. TFLite 2.9 must agree with ONNX Runtime on explicit pads, ceil_mode, unequal dilations and strides
 * and a symbolic batch, with no transpose left between two Convs (QA s12: refused 'dilated pooling has no TFLite
 * kernel'). auto_pad SAME with dilation (ORT's output size is not the spec's) is refused by node.
 * Dilated AveragePool (opset 19; s13, was refused 'dilated average pooling has no TFLite kernel'): the taps of the
 * zero-padded input summed by ADD and divided by each window's count as ORT counts it — taps inside the input
 * (count_include_pad=0) or inside the input and its explicit pads (1), with ceil_mode windows reaching past both.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, type Attribute } from '@modelpass/ir';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { countTransposes } from '@modelpass/tflite';
import { expectRefused, seededTensor, singleInputModel, type SingleInputCase } from './tflite-legalize-harness.js';
import { expectLegalizedAgrees } from './tflite-legalized-case.js';

afterAll(() => disposeSharedOrtRunner());

const maxPool = (attributes: Record<string, Attribute>): SingleInputCase['build'] => (b, x) => b.op('onnx.MaxPool', [x], attributes, { outputs: 1 })[0]!;

const CASES: (SingleInputCase & { name: string; transposesInside?: number })[] = [
  { name: 'kernel 3, dilation 2, stride 1, pads 2', input: [1, 3, 9, 8], build: maxPool({ kernel_shape: attrs.ints([3, 3]), dilations: attrs.ints([2, 2]), pads: attrs.ints([2, 2, 2, 2]) }) },
  { name: 'kernel 2, dilation 2, stride 2, ceil_mode', input: [2, 2, 9, 10], build: maxPool({ kernel_shape: attrs.ints([2, 2]), dilations: attrs.ints([2, 2]), strides: attrs.ints([2, 2]), ceil_mode: attrs.int(1) }) },
  { name: 'kernel 3x2, dilations 1x3, strides 2x1, pads 1,0,1,1', input: [1, 4, 7, 9], build: maxPool({ kernel_shape: attrs.ints([3, 2]), dilations: attrs.ints([1, 3]), strides: attrs.ints([2, 1]), pads: attrs.ints([1, 0, 1, 1]) }) },
  { name: 'symbolic batch, asymmetric pads', input: ['batch', 3, 8, 8], build: maxPool({ kernel_shape: attrs.ints([2, 2]), dilations: attrs.ints([3, 2]), pads: attrs.ints([1, 0, 1, 1]) }) },
  {
    name: 'Conv → dilated MaxPool → Conv keeps no transpose inside',
    input: [1, 3, 10, 10],
    build: (b, x) => {
      const conv = b.op1('onnx.Conv', [x, b.constant(seededTensor([4, 3, 3, 3], 3, -0.5, 0.5))], { pads: attrs.ints([1, 1, 1, 1]) });
      const pooled = b.op('onnx.MaxPool', [conv], { kernel_shape: attrs.ints([2, 2]), dilations: attrs.ints([2, 2]) }, { outputs: 1 })[0]!;
      return b.op1('onnx.Conv', [pooled, b.constant(seededTensor([2, 4, 1, 1], 4, -0.5, 0.5))]);
    },
    transposesInside: 0,
  },
];

describe('legalize-tflite: dilated MaxPool', () => {
  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const converted = await expectLegalizedAgrees(testCase, { uses: ['MAXIMUM'], seed: 13, range: [-3, 3], tolerance: 1e-5 });
      if (testCase.transposesInside !== undefined) expect(countTransposes(converted.graph).inner).toBe(testCase.transposesInside);
    });
  }

  it('a dilated MaxPool with auto_pad SAME_UPPER is refused by node', async () => {
    const model = singleInputModel({ input: [1, 4, 7, 9], build: maxPool({ kernel_shape: attrs.ints([3, 2]), dilations: attrs.ints([1, 3]), auto_pad: attrs.string('SAME_UPPER') }) });
    await expectRefused(model, [/MaxPool/, /auto_pad SAME_UPPER/]);
  });

});

const averagePool = (attributes: Record<string, Attribute>): SingleInputCase['build'] => (b, x) => b.op1('onnx.AveragePool', [x], attributes);
const dilated = { kernel_shape: attrs.ints([3, 2]), dilations: attrs.ints([2, 3]), strides: attrs.ints([2, 1]) };

const AVERAGE_CASES: (SingleInputCase & { name: string })[] = [
  { name: 'no pads', input: [1, 3, 7, 8], opset: 19, build: averagePool(dilated) },
  { name: 'pads 1,1,1,0, count_include_pad=0', input: [1, 3, 7, 8], opset: 19, build: averagePool({ ...dilated, pads: attrs.ints([1, 1, 1, 0]) }) },
  { name: 'pads 1,1,1,0, count_include_pad=1', input: [1, 3, 7, 8], opset: 19, build: averagePool({ ...dilated, pads: attrs.ints([1, 1, 1, 0]), count_include_pad: attrs.int(1) }) },
  { name: 'ceil_mode, pads 1,1,1,1, count_include_pad=1 (last windows past the pads)', input: [1, 2, 7, 8], opset: 19, build: averagePool({ ...dilated, pads: attrs.ints([1, 1, 1, 1]), ceil_mode: attrs.int(1), count_include_pad: attrs.int(1) }) },
  { name: 'ceil_mode, pads 2,1,0,1, count_include_pad=0', input: [1, 2, 7, 8], opset: 19, build: averagePool({ ...dilated, pads: attrs.ints([2, 1, 0, 1]), ceil_mode: attrs.int(1) }) },
  { name: 'symbolic batch, dilation 2, stride 1', input: ['batch', 3, 8, 8], opset: 19, build: averagePool({ kernel_shape: attrs.ints([2, 2]), dilations: attrs.ints([2, 2]), pads: attrs.ints([1, 0, 1, 1]) }) },
];

describe('legalize-tflite: dilated AveragePool', () => {
  for (const testCase of AVERAGE_CASES) {
    it(testCase.name, async () => {
      await expectLegalizedAgrees(testCase, { uses: ['DIV'], seed: 13, range: [-3, 3], tolerance: 1e-5 });
    });
  }

  it('a dilated AveragePool with auto_pad SAME_LOWER is refused by node', async () => {
    const model = singleInputModel({ input: [1, 2, 6, 6], opset: 19, build: averagePool({ kernel_shape: attrs.ints([2, 2]), dilations: attrs.ints([2, 2]), auto_pad: attrs.string('SAME_LOWER') }) });
    await expectRefused(model, [/AveragePool/, /auto_pad SAME_LOWER/]);
  });
});
