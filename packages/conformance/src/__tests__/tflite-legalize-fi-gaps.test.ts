/**
 * What legalize-tflite refused although TFLite 2.9 can run it (s16 issue 12), each judged against ONNX Runtime:
 * - Softmax/LogSoftmax before opset 13 on a non-last axis (the input flattened to 2-D at the axis, the op along
 *   the second dim): RESHAPE → SOFTMAX/LOG_SOFTMAX → RESHAPE (SHAPE for the way back with two unknown dims);
 * - ReduceL1/L2/SumSquare/LogSum/LogSumExp with noop_with_empty_axes=1 and no axes: ORT 1.30 (the referee) still
 *   applies the element-wise part (|x|, sqrt(x·x), x·x, log x; LogSumExp returns x), so the lowering does too;
 * - ArgMax/ArgMin with select_last_index=1: REVERSE_V2 along the axis, ARG_MAX/ARG_MIN, n − 1 − index.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Tensor, tensorType, type Attribute, type GraphBuilder, type Value } from '@modelpass/ir';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { readOnnx } from '@modelpass/onnx';
import { countTransposes } from '@modelpass/tflite';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';
import { compareInRuntimes, expectRefused, feedsFor, legalize, seededTensor, singleInputModel, type SingleInputCase } from './tflite-legalize-harness.js';
import { expectLegalizedAgrees } from './tflite-legalized-case.js';

afterAll(() => disposeSharedOrtRunner());

interface GapCase extends SingleInputCase {
  readonly name: string;
  readonly uses: readonly string[];
  readonly range?: [number, number];
}

const softmax = (op: 'Softmax' | 'LogSoftmax', axis?: number): SingleInputCase['build'] => (b, x) =>
  b.op1(`onnx.${op}`, [x], axis === undefined ? {} : { axis: attrs.int(axis) });

const SOFTMAX_CASES: GapCase[] = [
  { name: 'Softmax opset 11, axis 1 of [2, 3, 4, 5]', input: [2, 3, 4, 5], opset: 11, build: softmax('Softmax', 1), uses: ['RESHAPE', 'SOFTMAX'] },
  { name: 'Softmax opset 12, default axis (1) of [3, 4, 5]', input: [3, 4, 5], opset: 12, build: softmax('Softmax'), uses: ['RESHAPE', 'SOFTMAX'] },
  { name: 'Softmax opset 11, axis 0 (the whole tensor)', input: [2, 3, 4], opset: 11, build: softmax('Softmax', 0), uses: ['RESHAPE', 'SOFTMAX'] },
  { name: 'LogSoftmax opset 11, axis -2 of [2, 3, 4, 5]', input: [2, 3, 4, 5], opset: 11, build: softmax('LogSoftmax', -2), uses: ['RESHAPE', 'LOG_SOFTMAX'] },
  { name: 'LogSoftmax opset 9, axis 1, symbolic batch', input: ['batch', 3, 4], opset: 9, build: softmax('LogSoftmax', 1), uses: ['RESHAPE', 'LOG_SOFTMAX'] },
  { name: 'Softmax opset 11, axis 2, two unknown dims before it (SHAPE back)', input: ['n', 'm', 4, 5], opset: 11, build: softmax('Softmax', 2), uses: ['RESHAPE', 'SOFTMAX', 'SHAPE'] },
];

describe('legalize-tflite: Softmax/LogSoftmax before opset 13 on a non-last axis', () => {
  for (const testCase of SOFTMAX_CASES) {
    it(testCase.name, async () => {
      await expectLegalizedAgrees(testCase, { uses: testCase.uses, seed: 5, range: [-4, 4], tolerance: 1e-6 });
    });
  }

  it('the flattened softmax is not a softmax along the axis alone (the case tests the old semantics)', async () => {
    // Opset 13's Softmax on axis 1 of [2, 3, 4, 5] normalizes over 3 values; opset 11's over 60: the outputs differ.
    const converted = singleInputModel({ input: [2, 3, 4, 5], opset: 13, build: softmax('Softmax', 1) });
    await legalize(converted, 'optimize=false');
    const old = singleInputModel(SOFTMAX_CASES[0]!);
    const [difference] = await compareInRuntimes(old, converted, feedsFor(old, 5, [-4, 4]));
    expect(difference).toBeGreaterThan(0.01);
  });

  it('unknown dims on both sides of the axis are refused by node', async () => {
    const model = singleInputModel({ input: ['n', 3, 'k'], opset: 11, build: softmax('Softmax', 1) });
    await expectRefused(model, [/Softmax/, /flattens the input to 2-D at axis 1/, /unknown dims on both sides/]);
  });
});

const reduceNoop = (op: string) => (b: GraphBuilder, x: Value): Value => b.op1(`onnx.${op}`, [x], { noop_with_empty_axes: attrs.int(1), keepdims: attrs.int(0) });
// x scaled so some squares overflow float32 (1e20²) and some underflow (1e-30²): ORT gives inf and 0 there.
const extremes = (b: GraphBuilder, x: Value): Value => b.op1('onnx.Mul', [x, b.constant(Tensor.fromValues('float32', [2, 3], [1e20, 1e-30, 1, -1e20, 3, 1]))]);

const engine = new TfliteEngine();

/** The case legalized holds only tflite ops, `uses` among them, and TFLite 2.9 gives ORT's outputs element for element (inf and all). */
async function expectSameOutputs(testCase: GapCase, seed: number): Promise<void> {
  const original = singleInputModel(testCase);
  const converted = singleInputModel(testCase);
  await legalize(converted, 'optimize=false');
  const ops = converted.graph.nodeList().map((node) => node.op);
  expect(ops.filter((op) => !op.startsWith('tflite.'))).toEqual([]);
  for (const builtin of testCase.uses) expect(ops).toContain(`tflite.${builtin}`);
  const feeds = feedsFor(original, seed, testCase.range ?? [-3, 3]);
  const expected = await runOrt(original, feeds);
  const actual = await engine.run(converted, feeds);
  original.graph.outputs.forEach((output, index) => {
    const want = expected.get(output.name)!;
    const got = actual.get(converted.graph.outputs[index]!.name)!;
    expect(got.shape).toEqual(want.shape);
    expect(got.toNumbers()).toEqual(want.toNumbers());
  });
}

const NOOP_CASES: GapCase[] = [
  { name: 'ReduceL1 → |x|', input: [2, 3, 4], opset: 18, build: reduceNoop('ReduceL1'), uses: ['ABS'] },
  { name: 'ReduceL2 → sqrt(x·x), with overflow and underflow', input: [2, 3], opset: 18, build: (b, x) => reduceNoop('ReduceL2')(b, extremes(b, x)), uses: ['SQUARE', 'SQRT'] },
  { name: 'ReduceSumSquare → x·x, with overflow and underflow', input: [2, 3], opset: 18, build: (b, x) => reduceNoop('ReduceSumSquare')(b, extremes(b, x)), uses: ['SQUARE'] },
  { name: 'ReduceLogSum → log x', input: [2, 3, 4], opset: 18, range: [0.01, 5], build: reduceNoop('ReduceLogSum'), uses: ['LOG'] },
  { name: 'ReduceLogSumExp → x', input: [2, 3, 4], opset: 18, build: (b, x) => reduceNoop('ReduceLogSumExp')(b, b.op1('onnx.Neg', [x])), uses: ['NEG'] },
  { name: 'ReduceSum (opset 13) → x', input: [2, 3], opset: 13, build: (b, x) => reduceNoop('ReduceSum')(b, b.op1('onnx.Neg', [x])), uses: ['NEG'] },
  { name: 'ReduceMean (opset 18) → x', input: [2, 3], opset: 18, build: (b, x) => reduceNoop('ReduceMean')(b, b.op1('onnx.Neg', [x])), uses: ['NEG'] },
];

describe('legalize-tflite: reductions with noop_with_empty_axes=1 and no axes (as ORT computes them)', () => {
  for (const testCase of NOOP_CASES) it(testCase.name, () => expectSameOutputs(testCase, 9));

  it('ReduceSumSquare and ReduceL2 over an axis overflow to inf as ORT does (x² is SQUARE: MUL clamps to ±FLT_MAX)', async () => {
    for (const op of ['ReduceSumSquare', 'ReduceL2']) {
      await expectSameOutputs({ name: op, input: [2, 3], opset: 18, build: (b, x) => b.op1(`onnx.${op}`, [extremes(b, x), b.constant(Tensor.fromValues('int64', [1], [1n]))]), uses: ['SQUARE', 'SUM'] }, 9);
    }
  });
});

const argLast = (op: 'ArgMax' | 'ArgMin', attributes: Record<string, Attribute>): SingleInputCase['build'] => (b, x) =>
  // Floor makes ties (values -3…2), so the first and the last extreme differ.
  b.op1(`onnx.${op}`, [b.op1('onnx.Floor', [x])], { select_last_index: attrs.int(1), ...attributes });

const ARG_CASES: GapCase[] = [
  { name: 'ArgMax axis 1 keepdims', input: [3, 6, 4], opset: 13, build: argLast('ArgMax', { axis: attrs.int(1) }), uses: ['REVERSE_V2', 'ARG_MAX', 'SUB', 'RESHAPE'] },
  { name: 'ArgMax axis -1 keepdims=0', input: [3, 6, 7], opset: 13, build: argLast('ArgMax', { axis: attrs.int(-1), keepdims: attrs.int(0) }), uses: ['REVERSE_V2', 'ARG_MAX', 'SUB'] },
  { name: 'ArgMin axis 0 keepdims=0', input: [8, 5], opset: 12, build: argLast('ArgMin', { axis: attrs.int(0), keepdims: attrs.int(0) }), uses: ['REVERSE_V2', 'ARG_MIN', 'SUB'] },
  { name: 'ArgMin axis 2 keepdims, symbolic batch', input: ['batch', 3, 9], opset: 13, build: argLast('ArgMin', { axis: attrs.int(2) }), uses: ['REVERSE_V2', 'ARG_MIN', 'SUB'] },
];

describe('legalize-tflite: ArgMax/ArgMin with select_last_index=1', () => {
  for (const testCase of ARG_CASES) {
    it(testCase.name, async () => {
      await expectSameOutputs(testCase, 17);
    });
  }

  it('the feeds have ties, so select_last_index matters (select_last_index=0 disagrees with ORT on them)', async () => {
    const lastIndex = singleInputModel(ARG_CASES[0]!);
    const firstIndex = singleInputModel({ ...ARG_CASES[0]!, build: (b, x) => b.op1('onnx.ArgMax', [b.op1('onnx.Floor', [x])], { axis: attrs.int(1) }) });
    await legalize(firstIndex, 'optimize=false');
    const [difference] = await compareInRuntimes(lastIndex, firstIndex, feedsFor(lastIndex, 17, [-3, 3]));
    expect(difference).toBeGreaterThan(0);
  });

  it('select_last_index=1 along a dim of unknown size is refused by node', async () => {
    const model = singleInputModel({ input: [2, 'n'], opset: 13, build: argLast('ArgMax', { axis: attrs.int(1) }) });
    await expectRefused(model, [/ArgMax/, /select_last_index=1 needs a static size along axis 1/]);
  });
});

/** Conv (stride 2) → Resize by constant whole scales on an input of run-time height and width (PaddleOCR det's FPN). */
const upsampleHead = (scales: number[], mode: Record<string, Attribute>): SingleInputCase['build'] => (b, x) => {
  const conv = b.op1('onnx.Conv', [x, b.constant(Tensor.fromValues('float32', [4, 3, 3, 3], Array.from({ length: 108 }, (_, i) => Math.sin(i) / 2)))], { strides: attrs.ints([2, 2]), pads: attrs.ints([1, 1, 1, 1]) });
  const resized = b.op1('onnx.Resize', [conv, b.constant(Tensor.fromValues('float32', [0], [])), b.constant(Tensor.fromValues('float32', [4], scales))], mode);
  return b.op1('onnx.Add', [resized, resized]);
};

const RUN_TIME_RESIZE: (GapCase & { feeds: number[][] })[] = [
  { name: 'nearest asymmetric floor ×2 (opset 11, PaddleOCR det)', input: ['n', 3, 'h', 'w'], opset: 11, feeds: [[1, 3, 12, 20], [2, 3, 9, 7]], uses: ['RESIZE_NEAREST_NEIGHBOR', 'SHAPE'], build: upsampleHead([1, 1, 2, 2], { mode: attrs.string('nearest'), coordinate_transformation_mode: attrs.string('asymmetric'), nearest_mode: attrs.string('floor') }) },
  { name: 'nearest asymmetric floor ×4 along H, ×1 along W', input: [1, 3, 'h', 'w'], opset: 13, feeds: [[1, 3, 8, 6]], uses: ['RESIZE_NEAREST_NEIGHBOR'], build: upsampleHead([1, 1, 4, 1], { mode: attrs.string('nearest'), coordinate_transformation_mode: attrs.string('asymmetric'), nearest_mode: attrs.string('floor') }) },
  { name: 'linear half_pixel ×2 (torch bilinear upsample, dynamic H/W)', input: [1, 3, 'h', 'w'], opset: 13, feeds: [[1, 3, 10, 14], [1, 3, 5, 3]], uses: ['RESIZE_BILINEAR'], build: upsampleHead([1, 1, 2, 2], { mode: attrs.string('linear') }) },
  { name: 'linear align_corners ×3', input: [1, 3, 'h', 'w'], opset: 13, feeds: [[1, 3, 7, 9]], uses: ['RESIZE_BILINEAR'], build: upsampleHead([1, 1, 3, 3], { mode: attrs.string('linear'), coordinate_transformation_mode: attrs.string('align_corners') }) },
];

/**
 * The case legalized, then run at each of `feeds`' input shapes. The file declares run-time dims as 1 (shape_signature
 * −1) and the Node binding cannot resize an input, so the input and output are declared with the feed's shapes, as
 * interpreter.resize_tensor_input would set them: TFLite propagates the input's shape through every op when it
 * allocates, and RESIZE_* and TRANSPOSE_CONV size their outputs at run time.
 */
async function expectRunTimeAgrees(testCase: GapCase & { feeds: number[][] }): Promise<void> {
  const original = singleInputModel(testCase);
  const converted = singleInputModel(testCase);
  await legalize(converted, 'optimize=false');
  const ops = converted.graph.nodeList().map((node) => node.op);
  expect(ops.filter((op) => !op.startsWith('tflite.'))).toEqual([]);
  for (const builtin of testCase.uses) expect(ops).toContain(`tflite.${builtin}`);
  for (const shape of testCase.feeds) {
    const feeds = { x: seededTensor(shape, 23, -2, 2) };
    const want = (await runOrt(original, feeds)).get(original.graph.outputs[0]!.name)!;
    converted.graph.inputs[0]!.type = tensorType('float32', shape);
    converted.graph.outputs[0]!.type = tensorType('float32', [...want.shape]);
    const got = (await engine.run(converted, feeds)).get(converted.graph.outputs[0]!.name)!;
    expect(got.shape, `[${shape}]`).toEqual(want.shape);
    const w = want.toNumbers();
    const g = got.toNumbers();
    expect(w.reduce((worst, v, i) => Math.max(worst, Math.abs(v - g[i]!)), 0), `[${shape}]`).toBeLessThanOrEqual(1e-5);
  }
}

describe('legalize-tflite: Resize by constant whole scales of an input of run-time height and width', () => {
  for (const testCase of RUN_TIME_RESIZE) it(testCase.name, () => expectRunTimeAgrees(testCase));

  it('a scale of 1.5 on a run-time height is refused by node (out = floor(in × 1.5), TFLite resizes by out/in)', async () => {
    const model = singleInputModel({ input: [1, 3, 'h', 'w'], opset: 13, build: upsampleHead([1, 1, 1.5, 2], { mode: attrs.string('linear') }) });
    await expectRefused(model, [/Resize/, /whole scales ≥ 1 along H and W \(these are 1\.5, 2/]);
  });
});

const convTranspose = (channels: number, kernel: number[], attributes: Record<string, Attribute>, group = 1): SingleInputCase['build'] => (b, x) => {
  const count = channels * (3 / group) * kernel.reduce((n, k) => n * k, 1);
  const weight = Tensor.fromValues('float32', [channels, 3 / group, ...kernel], Array.from({ length: count }, (_, i) => Math.cos(i * 0.7) / 2));
  const bias = Tensor.fromValues('float32', [3], [0.1, -0.2, 0.3]);
  return b.op1('onnx.ConvTranspose', [x, b.constant(weight), b.constant(bias)], { kernel_shape: attrs.ints(kernel), ...attributes });
};

const RUN_TIME_CONV_TRANSPOSE: (GapCase & { feeds: number[][] })[] = [
  { name: 'kernel 2, stride 2, pads 0 (PaddleOCR det head), symbolic batch', input: ['n', 4, 'h', 'w'], feeds: [[1, 4, 5, 7], [2, 4, 3, 3]], uses: ['TRANSPOSE_CONV', 'SHAPE'], build: convTranspose(4, [2, 2], { strides: attrs.ints([2, 2]) }) },
  { name: 'kernel 3, stride 2, pads 1,0,2,1, output_padding 1,0', input: [1, 4, 'h', 'w'], feeds: [[1, 4, 6, 5]], uses: ['TRANSPOSE_CONV', 'STRIDED_SLICE'], build: convTranspose(4, [3, 3], { strides: attrs.ints([2, 2]), pads: attrs.ints([1, 0, 2, 1]), output_padding: attrs.ints([1, 0]) }) },
  { name: 'auto_pad SAME_UPPER, kernel 3, stride 2', input: [1, 4, 'h', 'w'], feeds: [[1, 4, 4, 6]], uses: ['TRANSPOSE_CONV', 'STRIDED_SLICE'], build: convTranspose(4, [3, 3], { strides: attrs.ints([2, 2]), auto_pad: attrs.string('SAME_UPPER') }) },
  { name: 'auto_pad SAME_LOWER, kernel 4x3, strides 2x1, dilations 1x2', input: [1, 4, 'h', 'w'], feeds: [[1, 4, 5, 4]], uses: ['TRANSPOSE_CONV', 'STRIDED_SLICE'], build: convTranspose(4, [4, 3], { strides: attrs.ints([2, 1]), dilations: attrs.ints([1, 2]), auto_pad: attrs.string('SAME_LOWER') }) },
  { name: 'group 3, pads 1', input: [1, 6, 'h', 'w'], feeds: [[1, 6, 4, 4]], uses: ['TRANSPOSE_CONV', 'SPLIT', 'CONCATENATION'], build: convTranspose(6, [3, 3], { strides: attrs.ints([2, 2]), pads: attrs.ints([1, 1, 1, 1]), group: attrs.int(3) }, 3) },
  { name: '1-D, kernel 4, stride 2, pads 1', input: [1, 4, 'l'], feeds: [[1, 4, 9]], uses: ['TRANSPOSE_CONV'], build: convTranspose(4, [4], { strides: attrs.ints([2]), pads: attrs.ints([1, 1]) }) },
];

describe('legalize-tflite: ConvTranspose of an input of run-time height and width', () => {
  for (const testCase of RUN_TIME_CONV_TRANSPOSE) it(testCase.name, () => expectRunTimeAgrees(testCase));

  it('PaddleOCR v4 det (input [N, 3, H, W] all run-time; refused for its 8 Resizes and 2 ConvTransposes before): no transpose inside, TFLite equals ORT at two sizes', async () => {
    const [entry] = await ensureThirdPartyModels({ ids: ['ppocr-v4-det'] });
    const original = readOnnx(entry!.path);
    const converted = readOnnx(entry!.path);
    await legalize(converted);
    expect(converted.graph.nodeList().filter((node) => !node.op.startsWith('tflite.'))).toEqual([]);
    expect(countTransposes(converted.graph).inner).toBe(0);
    for (const shape of [[1, 3, 64, 96], [1, 3, 96, 32]]) {
      const feeds = { x: seededTensor(shape, 5, 0, 1) };
      const want = (await runOrt(original, feeds)).get(original.graph.outputs[0]!.name)!;
      converted.graph.inputs[0]!.type = tensorType('float32', shape);
      converted.graph.outputs[0]!.type = tensorType('float32', [...want.shape]);
      const got = (await engine.run(converted, feeds)).get(converted.graph.outputs[0]!.name)!;
      expect(got.shape).toEqual(want.shape);
      const w = want.toNumbers();
      const g = got.toNumbers();
      expect(w.reduce((worst, v, i) => Math.max(worst, Math.abs(v - g[i]!)), 0), `[${shape}]`).toBeLessThanOrEqual(1e-6);
    }
  }, 120_000);

  it('output_shape with run-time spatial dims is refused by node', async () => {
    const model = singleInputModel({ input: [1, 4, 'h', 'w'], build: convTranspose(4, [3, 3], { strides: attrs.ints([2, 2]), output_shape: attrs.ints([9, 9]) }) });
    await expectRefused(model, [/ConvTranspose/, /output_shape needs static spatial dims/]);
  });
});

/** x → Q/DQ (uint8) → the op (→ Q/DQ for a float output): the op becomes an int8 TFLite op. */
const quantized = (op: (b: GraphBuilder, x: Value) => Value, requantize: boolean): SingleInputCase['build'] => (b, x) => {
  const [s, z] = [b.constant(Tensor.scalar('float32', 0.5)), b.constant(Tensor.scalar('uint8', 128))];
  const y = op(b, b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [x, s, z]), s, z]));
  if (!requantize) return y;
  const [so, zo] = [b.constant(Tensor.scalar('float32', 1 / 256)), b.constant(Tensor.scalar('uint8', 0))];
  return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [y, so, zo]), so, zo]);
};

describe('legalize-tflite: the new lowerings on int8 values', () => {
  const cases: GapCase[] = [
    { name: 'ArgMax select_last_index=1 of int8 values (REVERSE_V2 int8)', input: [2, 6, 4], opset: 13, uses: ['REVERSE_V2', 'ARG_MAX'], build: quantized((b, x) => b.op1('onnx.ArgMax', [x], { axis: attrs.int(1), select_last_index: attrs.int(1) }), false) },
    { name: 'Softmax opset 11 axis 1 on int8 values (RESHAPE int8 → SOFTMAX int8)', input: [2, 6, 4], opset: 11, uses: ['RESHAPE', 'SOFTMAX'], build: quantized((b, x) => b.op1('onnx.Softmax', [x], { axis: attrs.int(1) }), true) },
  ];
  for (const testCase of cases) {
    it(testCase.name, async () => {
      const converted = singleInputModel(testCase);
      await legalize(converted, '');
      const integers = converted.graph.nodeList().filter((node) => node.op === `tflite.${testCase.uses[1]}`);
      expect(integers.map((node) => (node.inputs[0]!.type as { dtype: string }).dtype)).toEqual(['int8']);
      await expectSameOutputs(testCase, 3);
    });
  }
});

const i64 = (values: number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));
const seeded = (shape: number[], seed: number): Tensor => seededTensor(shape, seed, -1, 1);

const MORE_CASES: GapCase[] = [
  // Pad: negative pads crop (was 'negative pads (cropping) are not supported yet'); opset 18's axes input (was 'Pad with axes is not supported yet').
  { name: 'Pad with negative pads (crop one side, pad the other)', input: [2, 5, 6], opset: 13, uses: ['STRIDED_SLICE', 'PAD'], build: (b, x) => b.op1('onnx.Pad', [x, b.constant(i64([0, -1, 2, 1, 2, -3]))]) },
  { name: 'Pad with only negative pads and a value', input: ['n', 5, 6], opset: 13, uses: ['STRIDED_SLICE'], build: (b, x) => b.op1('onnx.Pad', [x, b.constant(i64([0, -2, 0, 0, -1, -4])), b.constant(Tensor.scalar('float32', 3))]) },
  { name: 'Pad with axes (opset 18), negative axis', input: [2, 3, 4], opset: 18, uses: ['PADV2'], build: (b, x) => b.op1('onnx.Pad', [x, b.constant(i64([1, 2, 0, 3])), b.constant(Tensor.scalar('float32', -1)), b.constant(i64([-1, 0]))]) },
  { name: 'Pad reflect with axes (opset 18)', input: [1, 3, 5, 6], opset: 18, uses: ['MIRROR_PAD'], build: (b, x) => b.op1('onnx.Pad', [x, b.constant(i64([2, 1, 1, 2])), null, b.constant(i64([2, 3]))], { mode: attrs.string('reflect') }) },
  // MatMul of a vector (was 'MatMul of a vector (rank 1) is not supported yet').
  { name: 'MatMul vector × constant matrix', input: [6], uses: ['FULLY_CONNECTED', 'RESHAPE'], build: (b, x) => b.op1('onnx.MatMul', [x, b.constant(seeded([6, 4], 61))]) },
  { name: 'MatMul batched matrices × constant vector', input: [2, 3, 6], uses: ['RESHAPE'], build: (b, x) => b.op1('onnx.MatMul', [x, b.constant(seeded([6], 62))]) },
  { name: 'MatMul vector · vector (a scalar)', input: [6], uses: ['RESHAPE'], build: (b, x) => b.op1('onnx.MatMul', [x, b.op1('onnx.Neg', [x])]) },
  { name: 'MatMul vector × batched run-time matrices', input: [2, 6, 5], uses: ['BATCH_MATMUL'], build: (b, x) => b.op1('onnx.MatMul', [b.constant(seeded([6], 63)), x]) },
  // MaxPool storage_order=1 with its Indices output unread (was 'storage_order=1 is not supported').
  { name: 'MaxPool storage_order=1 (Indices unread)', input: [1, 3, 6, 6], uses: ['MAX_POOL_2D'], build: (b, x) => b.op('onnx.MaxPool', [x], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]), storage_order: attrs.int(1) }, { outputs: 1 })[0]! },
];

describe('legalize-tflite: Pad with negative pads or axes, MatMul of vectors, MaxPool storage_order=1', () => {
  for (const testCase of MORE_CASES) {
    it(testCase.name, async () => {
      await expectLegalizedAgrees(testCase, { uses: testCase.uses, seed: 31, range: [-2, 2], tolerance: 1e-5 });
    });
  }

  it('negative pads with mode reflect are refused by node', async () => {
    const model = singleInputModel({ input: [1, 3, 5, 6], opset: 13, build: (b, x) => b.op1('onnx.Pad', [x, b.constant(i64([0, 0, -1, 2, 0, 0, 1, -2]))], { mode: attrs.string('reflect') }) });
    await expectRefused(model, [/Pad/, /negative pads \(cropping\) with mode 'reflect'/]);
  });
});

const einsum = (equation: string, second?: number[]): SingleInputCase['build'] => (b, x) =>
  b.op1('onnx.Einsum', second ? [x, b.constant(seeded(second, 71))] : [x], { equation: attrs.string(equation) });

const ELLIPSIS_CASES: GapCase[] = [
  { name: 'Einsum ...chw->...hwc (a transpose under an ellipsis)', input: [1, 4, 5, 6], opset: 12, uses: ['TRANSPOSE'], build: einsum('...chw->...hwc') },
  { name: 'Einsum ...ij,jk->...ik (batched × matrix, ellipsis on one side)', input: [2, 3, 4, 5], opset: 12, uses: ['BATCH_MATMUL'], build: einsum('...ij,jk->...ik', [5, 6]) },
  { name: 'Einsum b...d,...d (implicit output, ellipsis first)', input: [2, 3, 4], opset: 12, uses: ['BATCH_MATMUL'], build: einsum('b...d,...d', [3, 4]) },
  { name: 'Einsum ...->... on the whole tensor (identity)', input: [2, 3], opset: 12, uses: [], build: (b, x) => b.op1('onnx.Neg', [einsum('...->...')(b, x) as Value]) },
];

describe('legalize-tflite: Einsum with an ellipsis (was refused)', () => {
  for (const testCase of ELLIPSIS_CASES) {
    it(testCase.name, async () => {
      await expectLegalizedAgrees(testCase, { uses: testCase.uses, seed: 41, range: [-2, 2], tolerance: 1e-5 });
    });
  }
});

const averagePool = (attributes: Record<string, Attribute>): SingleInputCase['build'] => (b, x) => b.op1('onnx.AveragePool', [x], { count_include_pad: attrs.int(0), ...attributes });

/** AveragePool with explicit pads left out of the count that are not SAME's (torch's count_include_pad=False): was refused. */
const EXCLUDED_PADDING: GapCase[] = [
  { name: 'kernel 2, stride 2, pads 1', input: [1, 3, 6, 6], uses: ['AVERAGE_POOL_2D', 'MUL'], build: averagePool({ kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]), pads: attrs.ints([1, 1, 1, 1]) }) },
  { name: 'kernel 3, stride 2, pads 1, ceil_mode (a last window past the pads)', input: [2, 3, 6, 7], uses: ['AVERAGE_POOL_2D', 'MUL'], build: averagePool({ kernel_shape: attrs.ints([3, 3]), strides: attrs.ints([2, 2]), pads: attrs.ints([1, 1, 1, 1]), ceil_mode: attrs.int(1) }) },
  { name: 'kernel 3x2, strides 1x2, asymmetric pads 0,1,2,0, symbolic batch', input: ['n', 4, 5, 6], uses: ['AVERAGE_POOL_2D', 'MUL'], build: averagePool({ kernel_shape: attrs.ints([3, 2]), strides: attrs.ints([1, 2]), pads: attrs.ints([0, 1, 2, 0]) }) },
  { name: 'kernel 5, stride 3, pads 2', input: [1, 2, 11, 9], uses: ['AVERAGE_POOL_2D', 'MUL'], build: averagePool({ kernel_shape: attrs.ints([5, 5]), strides: attrs.ints([3, 3]), pads: attrs.ints([2, 2, 2, 2]) }) },
  { name: 'auto_pad SAME_LOWER, kernel 2 (its pad is at the start, not where TFLite SAME puts it)', input: [1, 3, 5, 5], uses: ['AVERAGE_POOL_2D', 'MUL'], build: averagePool({ kernel_shape: attrs.ints([2, 2]), auto_pad: attrs.string('SAME_LOWER') }) },
];

describe('legalize-tflite: AveragePool with explicit non-SAME pads and count_include_pad=0', () => {
  for (const testCase of EXCLUDED_PADDING) {
    it(testCase.name, async () => {
      await expectLegalizedAgrees(testCase, { uses: testCase.uses, seed: 51, range: [-3, 3], tolerance: 1e-5 });
    });
  }
});

describe('legalize-tflite: Clip with run-time bounds, Elu with alpha ≠ 1 (were refused)', () => {
  const cases: GapCase[] = [
    { name: 'Clip(x, min = ReduceMin(x) / 2, max = a constant)', input: [3, 5], opset: 13, uses: ['MAXIMUM', 'MINIMUM'], build: (b, x) => b.op1('onnx.Clip', [x, b.op1('onnx.Div', [b.op1('onnx.ReduceMin', [x], { keepdims: attrs.int(0) }), b.constant(Tensor.scalar('float32', 2))]), b.constant(Tensor.scalar('float32', 0.5))]) },
    { name: 'Clip(x, no min, max = ReduceMean(x)), max below some min', input: [2, 6], opset: 13, uses: ['MINIMUM'], build: (b, x) => b.op1('onnx.Clip', [x, null, b.op1('onnx.ReduceMean', [x], { keepdims: attrs.int(0) })]) },
    { name: 'Elu alpha 0.5', input: [2, 3, 4], uses: ['SELECT_V2', 'EXP'], build: (b, x) => b.op1('onnx.Elu', [x], { alpha: attrs.float(0.5) }) },
    { name: 'Elu alpha 2 over [-20, 20]', input: [4, 5], range: [-20, 20], uses: ['SELECT_V2'], build: (b, x) => b.op1('onnx.Elu', [x], { alpha: attrs.float(2) }) },
  ];
  for (const testCase of cases) {
    it(testCase.name, async () => {
      await expectLegalizedAgrees(testCase, { uses: testCase.uses, seed: 57, range: testCase.range ?? [-3, 3], tolerance: 1e-5 });
    });
  }
});
