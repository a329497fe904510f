/**
 * legalize-tflite op coverage, family (a): elementwise math, tests, bitwise, normalizations,
 * matrix generators, windows and random ops. Each one-op model is built in code, converted, run in
 * the TFLite runtime (TFLite 2.9) and compared with ONNX Runtime on the original (1e-4, NaN where
 * ORT has NaN); every node of the result must be a tflite op. Random ops are judged by shape, dtype
 * and statistics. Refusals must name the node and the reason.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType, type DType, type Model, type Value } from '@modelpass/ir';
import { inferShapes, runReference } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { legalize, seededTensor } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

interface InputSpec {
  readonly shape: readonly (number | string)[];
  readonly dtype?: DType;
  /** The feed (default: seeded floats in `range`). */
  readonly values?: readonly (number | bigint | boolean)[];
  readonly range?: [number, number];
}

interface OpCase {
  readonly name: string;
  readonly inputs: readonly InputSpec[];
  readonly opset?: number;
  readonly build: (b: GraphBuilder, ...x: Value[]) => Value | Value[];
  readonly tolerance?: number;
}

const i64 = (values: number[], shape = [values.length]): Tensor => Tensor.fromValues('int64', shape, values.map((v) => BigInt(v)));
const f32 = (shape: number[], seed = 3, lo = -1, hi = 1): Tensor => seededTensor(shape, seed, lo, hi);
/** Seeded matrices [..., n, n] with n + 1 added on the diagonal (diagonally dominant). */
function dominant(shape: number[]): number[] {
  const n = shape.at(-1)!;
  return (seededTensor(shape, 29, -1, 1).toNumbers() as number[]).map((v, i) => (Math.floor(i / n) % n === i % n ? v + n + 1 : v));
}
const specialFloats = [Infinity, -Infinity, NaN, 0, -0.5, 2.5, 1e30, -3];

function unary(op: string, range: [number, number], attributes: Record<string, ReturnType<typeof attrs.float>> = {}, shape: number[] = [2, 3, 4, 5]): OpCase {
  const named = Object.entries(attributes).map(([key, value]) => `${key}=${String(value.value)}`).join(' ');
  return { name: `${op}${named ? ` ${named}` : ''} on [${range.join(', ')}]${shape.length > 4 ? ` rank ${shape.length}` : ''}`, inputs: [{ shape, range }], build: (b, x) => b.op1(`onnx.${op}`, [x!], attributes) };
}

const CASES: OpCase[] = [
  unary('Atan', [-30, 30]),
  unary('Atan', [-1, 1]),
  unary('Asin', [-1, 1]),
  { name: 'Asin at ±1 and beyond (NaN)', inputs: [{ shape: [6], values: [-1, 1, 0, 1.5, -2, 0.999] }], build: (b, x) => b.op1('onnx.Asin', [x!]) },
  unary('Acos', [-1, 1]),
  { name: 'Acos at −1, 1 and beyond', inputs: [{ shape: [5], values: [-1, 1, 0, 1.5, 0.9999] }], build: (b, x) => b.op1('onnx.Acos', [x!]) },
  unary('Tan', [-1.5, 1.5]),
  unary('Sinh', [-5, 5]),
  unary('Cosh', [-5, 5]),
  unary('Asinh', [-50, 50]),
  unary('Acosh', [1, 40]),
  { name: 'Asinh and Acosh of huge values (no overflow of x²)', inputs: [{ shape: [6], values: [1e20, -3e25, 2e9, 1e30, 5e8, -1e10] }], build: (b, x) => [b.op1('onnx.Asinh', [x!]), b.op1('onnx.Acosh', [b.op1('onnx.Abs', [x!])])] },
  unary('Atanh', [-0.99, 0.99]),
  unary('Softsign', [-10, 10]),
  unary('Shrink', [-2, 2]),
  unary('Shrink', [-2, 2], { lambd: attrs.float(1.25), bias: attrs.float(0.5) }),
  unary('Atan', [-5, 5], {}, [2, 1, 3, 2, 2]),
  unary('Sinh', [-2, 2], {}, [1, 2, 3, 2, 2, 2]),
  // tests
  { name: 'IsNaN', inputs: [{ shape: [8], values: specialFloats }], build: (b, x) => b.op1('onnx.IsNaN', [x!]) },
  ...[[1, 1], [1, 0], [0, 1], [0, 0]].map(([positive, negative]): OpCase => ({
    name: `IsInf detect_positive=${positive} detect_negative=${negative}`,
    inputs: [{ shape: [2, 4], values: specialFloats }],
    build: (b, x) => b.op1('onnx.IsInf', [x!], { detect_positive: attrs.int(positive!), detect_negative: attrs.int(negative!) }),
  })),
  { name: 'IsNaN rank 5', inputs: [{ shape: [1, 2, 1, 2, 2], values: specialFloats }], build: (b, x) => b.op1('onnx.IsNaN', [x!]) },
  {
    name: 'Xor with broadcasting',
    inputs: [{ shape: [2, 3], dtype: 'bool', values: [true, false, true, false, false, true] }, { shape: [3], dtype: 'bool', values: [true, true, false] }],
    build: (b, x, y) => b.op1('onnx.Xor', [x!, y!]),
  },
  { name: 'Mean of three (broadcasting)', inputs: [{ shape: [2, 3, 4] }, { shape: [3, 1] }, { shape: [4] }], build: (b, x, y, z) => b.op1('onnx.Mean', [x!, y!, z!]) },
  { name: 'Mean of one', inputs: [{ shape: [2, 3] }], build: (b, x) => b.op1('onnx.Relu', [b.op1('onnx.Mean', [x!])]) },
  { name: 'Size of a static shape', inputs: [{ shape: [2, 3, 4] }], build: (b, x) => b.op1('onnx.Size', [x!]) },
  {
    name: 'Size of a run-time shape',
    inputs: [{ shape: ['n', 3] }],
    build: (b, x) => b.op1('onnx.Mul', [b.op1('onnx.Size', [x!]), b.constant(Tensor.scalar('int64', 2n))]),
  },
  // matrix generators
  ...[1, 0].flatMap((upper) => [0, 1, -2].map((k): OpCase => ({
    name: `Trilu upper=${upper} k=${k}`,
    inputs: [{ shape: [2, 4, 5] }],
    opset: 14,
    build: (b, x) => b.op1('onnx.Trilu', k === 0 ? [x!] : [x!, b.constant(Tensor.scalar('int64', BigInt(k)))], { upper: attrs.int(upper) }),
  }))),
  { name: 'Trilu of int64 with inf-free zeros', inputs: [{ shape: [3, 3], dtype: 'int64', values: [1, 2, 3, 4, 5, 6, 7, 8, 9].map(BigInt) }], opset: 14, build: (b, x) => b.op1('onnx.Trilu', [x!], { upper: attrs.int(0) }) },
  ...[1, 0].flatMap((upper) => [-1n, 2n].map((k): OpCase => ({
    name: `Trilu upper=${upper} with a run-time k=${k}`,
    inputs: [{ shape: [2, 3, 4] }, { shape: [], dtype: 'int64', values: [k] }],
    opset: 14,
    build: (b, x, kValue) => b.op1('onnx.Trilu', [x!, kValue!], { upper: attrs.int(upper) }),
  }))),
  { name: 'Trilu rank 5', inputs: [{ shape: [2, 1, 2, 3, 3] }], opset: 14, build: (b, x) => b.op1('onnx.Trilu', [x!]) },
  { name: 'Trilu keeps zeros for masked infinities', inputs: [{ shape: [2, 2], values: [Infinity, -Infinity, NaN, 1] }], opset: 14, build: (b, x) => b.op1('onnx.Trilu', [x!]) },
  { name: 'EyeLike k=1 (float)', inputs: [{ shape: [3, 4] }], build: (b, x) => b.op1('onnx.Add', [x!, b.op1('onnx.EyeLike', [x!], { k: attrs.int(1) })]) },
  { name: 'EyeLike dtype int32, k=-1, as the graph output', inputs: [{ shape: [4, 3] }], build: (b, x) => b.op1('onnx.EyeLike', [x!], { dtype: attrs.int(6), k: attrs.int(-1) }) },
  { name: 'Hardmax (opset 13, axis -1)', inputs: [{ shape: [2, 3, 5] }], opset: 13, build: (b, x) => b.op1('onnx.Hardmax', [x!]) },
  { name: 'Hardmax axis 1 (opset 13)', inputs: [{ shape: [2, 3, 5] }], opset: 13, build: (b, x) => b.op1('onnx.Hardmax', [x!], { axis: attrs.int(1) }) },
  { name: 'Hardmax ties keep the first maximum', inputs: [{ shape: [2, 3], values: [1, 3, 3, 2, 2, 0] }], opset: 13, build: (b, x) => b.op1('onnx.Hardmax', [x!]) },
  { name: 'Hardmax opset 11 (2-D coercion at axis 1)', inputs: [{ shape: [2, 3, 4] }], opset: 11, build: (b, x) => b.op1('onnx.Hardmax', [x!]) },
  // bitwise (int32 arithmetic on bits)
  {
    name: 'BitwiseAnd int32 (extremes, negatives)',
    inputs: [
      { shape: [2, 4], dtype: 'int32', values: [-2147483648, 2147483647, -1, 0, -5, 12345, -98765, 7] },
      { shape: [2, 4], dtype: 'int32', values: [-1, -2147483648, 2147483647, -1, 3, -4096, 65535, -8] },
    ],
    opset: 18,
    build: (b, x, y) => b.op1('onnx.BitwiseAnd', [x!, y!]),
  },
  {
    name: 'BitwiseOr int8 broadcasting [2,3] | [3]',
    inputs: [{ shape: [2, 3], dtype: 'int8', values: [-128, 127, -1, 5, 0, -7] }, { shape: [3], dtype: 'int8', values: [1, -128, 64] }],
    opset: 18,
    build: (b, x, y) => b.op1('onnx.BitwiseOr', [x!, y!]),
  },
  {
    name: 'BitwiseXor uint8',
    inputs: [{ shape: [6], dtype: 'uint8', values: [0, 255, 128, 170, 85, 15] }, { shape: [6], dtype: 'uint8', values: [255, 255, 1, 85, 85, 240] }],
    opset: 18,
    build: (b, x, y) => b.op1('onnx.BitwiseXor', [x!, y!]),
  },
  {
    name: 'BitwiseXor uint32 (values above 2^31)',
    inputs: [{ shape: [4], dtype: 'uint32', values: [4294967295, 2147483648, 123456789, 0] }, { shape: [4], dtype: 'uint32', values: [1, 4294967295, 987654321, 3000000000] }],
    opset: 18,
    build: (b, x, y) => b.op1('onnx.BitwiseXor', [x!, y!]),
  },
  {
    name: 'BitwiseAnd int16 rank 5 (flattened)',
    inputs: [{ shape: [1, 2, 1, 2, 2], dtype: 'int16', values: [-32768, 32767, -1, 0, 255, -256, 4660, -4661] }, { shape: [1, 2, 1, 2, 2], dtype: 'int16', values: [-1, -1, 21845, 7, 15, -1, 255, 255] }],
    opset: 18,
    build: (b, x, y) => b.op1('onnx.BitwiseAnd', [x!, y!]),
  },
  ...([
    ['int32', [-2147483648, 2147483647, -1, 0, 5]],
    ['int8', [-128, 127, -1, 0, 5]],
    ['uint8', [0, 255, 1, 128, 200]],
    ['uint32', [0, 4294967295, 1, 2147483648, 7]],
    ['int64', [-9007199254740991, 9007199254740991, -1, 0, 5]],
  ] as const).map(([dtype, values]): OpCase => ({
    name: `BitwiseNot ${dtype}`,
    inputs: [{ shape: [5], dtype, values: dtype === 'int64' ? values.map((v) => BigInt(v)) : values }],
    opset: 18,
    build: (b, x) => b.op1('onnx.BitwiseNot', [x!]),
  })),
  ...(['LEFT', 'RIGHT'] as const).map((direction): OpCase => ({
    name: `BitShift ${direction} uint32 (shifts 0–33 around the 16-bit split, broadcast)`,
    inputs: [
      { shape: [3, 9], dtype: 'uint32', values: [4294967295, 2147483648, 123456789, 65535, 65536, 1, 0, 3000000000, 4042322160].flatMap((v, i) => [v, (v * 7 + i) % 4294967296, 4294967295 - v]).slice(0, 27) },
      { shape: [9], dtype: 'uint32', values: [0, 1, 15, 16, 17, 31, 32, 33, 8] },
    ],
    build: (b, x, y) => b.op1('onnx.BitShift', [x!, y!], { direction: attrs.string(direction) }),
  })),
  ...(['LEFT', 'RIGHT'] as const).map((direction): OpCase => ({
    name: `BitShift ${direction} uint8 (shifts 0–9, broadcast)`,
    inputs: [{ shape: [2, 5], dtype: 'uint8', values: [1, 3, 255, 128, 77, 200, 5, 9, 64, 255] }, { shape: [5], dtype: 'uint8', values: [0, 1, 3, 8, 9] }],
    build: (b, x, y) => b.op1('onnx.BitShift', [x!, y!], { direction: attrs.string(direction) }),
  })),
  // normalizations and pools
  ...[[2, 3], [2, 3, 5], [1, 3, 4, 5], [1, 3, 2, 3, 4], [2, 2, 1, 2, 3, 2]].map((shape): OpCase => ({
    name: `BatchNormalization alone, rank ${shape.length}`,
    inputs: [{ shape, range: [-2, 3] }],
    build: (b, x) => {
      const c = shape.length > 1 ? shape[1]! : shape[0]!;
      const operand = (seed: number, lo: number, hi: number) => b.constant(f32([c], seed, lo, hi));
      return b.op1('onnx.BatchNormalization', [x!, operand(81, 0.5, 1.5), operand(82, -1, 1), operand(83, -0.5, 0.5), operand(84, 0.5, 2)], { epsilon: attrs.float(1e-3) });
    },
  })),
  ...(['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool'] as const).flatMap((op) => [[2, 3, 7], [1, 2, 3, 4, 5]].map((shape): OpCase => ({
    name: `${op} rank ${shape.length}`,
    inputs: [{ shape, range: [-2, 2] }],
    build: (b, x) => b.op1(`onnx.${op}`, [x!]),
  }))),
  { name: 'GlobalLpPool p=3 rank 4', inputs: [{ shape: [2, 3, 4, 4] }], build: (b, x) => b.op1('onnx.GlobalLpPool', [x!], { p: attrs.int(3) }) },
  { name: 'GlobalLpPool p=1 rank 4', inputs: [{ shape: [2, 3, 4, 4] }], build: (b, x) => b.op1('onnx.GlobalLpPool', [x!], { p: attrs.int(1) }) },
  { name: 'LpNormalization p=2 axis -1', inputs: [{ shape: [2, 3, 4], range: [0.1, 2] }], build: (b, x) => b.op1('onnx.LpNormalization', [x!]) },
  { name: 'LpNormalization p=1 axis 1', inputs: [{ shape: [2, 3, 4], range: [-2, 2] }], build: (b, x) => b.op1('onnx.LpNormalization', [x!], { p: attrs.int(1), axis: attrs.int(1) }) },
  { name: 'MeanVarianceNormalization (default axes 0, 2, 3)', inputs: [{ shape: [2, 3, 4, 5], range: [-2, 3] }], build: (b, x) => b.op1('onnx.MeanVarianceNormalization', [x!]) },
  { name: 'MeanVarianceNormalization axes [1]', inputs: [{ shape: [2, 6, 3], range: [-2, 3] }], build: (b, x) => b.op1('onnx.MeanVarianceNormalization', [x!], { axes: attrs.ints([1]) }) },
  { name: 'RMSNormalization axis -1 (opset 23)', inputs: [{ shape: [2, 3, 8], range: [-2, 3] }], opset: 23, build: (b, x) => b.op1('onnx.RMSNormalization', [x!, b.constant(f32([8], 91, 0.5, 1.5))]) },
  { name: 'RMSNormalization axis 1, epsilon 1e-2 (opset 23)', inputs: [{ shape: [2, 3, 4] }], opset: 23, build: (b, x) => b.op1('onnx.RMSNormalization', [x!, b.constant(f32([3, 4], 92, 0.5, 1.5))], { axis: attrs.int(1), epsilon: attrs.float(1e-2) }) },
  { name: 'LpPool p=2 kernel 3 stride 2 pads 1', inputs: [{ shape: [1, 3, 7, 6] }], build: (b, x) => b.op1('onnx.LpPool', [x!], { kernel_shape: attrs.ints([3, 3]), strides: attrs.ints([2, 2]), pads: attrs.ints([1, 1, 1, 1]) }) },
  { name: 'LpPool p=1 SAME_UPPER', inputs: [{ shape: [2, 2, 5, 5] }], build: (b, x) => b.op1('onnx.LpPool', [x!], { kernel_shape: attrs.ints([2, 2]), auto_pad: attrs.string('SAME_UPPER'), p: attrs.int(1) }) },
  { name: 'LpPool 1-D p=2 kernel 3 stride 2 pads 1', inputs: [{ shape: [2, 3, 11] }], build: (b, x) => b.op1('onnx.LpPool', [x!], { kernel_shape: attrs.ints([3]), strides: attrs.ints([2]), pads: attrs.ints([1, 1]) }) },
  { name: 'LpPool 1-D p=1 SAME_UPPER', inputs: [{ shape: [1, 2, 7] }], build: (b, x) => b.op1('onnx.LpPool', [x!], { kernel_shape: attrs.ints([2]), auto_pad: attrs.string('SAME_UPPER'), p: attrs.int(1) }) },
  { name: 'LpPool p=3 kernel 2x3 VALID', inputs: [{ shape: [1, 4, 6, 6] }], build: (b, x) => b.op1('onnx.LpPool', [x!], { kernel_shape: attrs.ints([2, 3]), p: attrs.int(3) }) },
  {
    name: 'Conv → LpPool → Conv keeps no transpose inside',
    inputs: [{ shape: [1, 3, 8, 8] }],
    build: (b, x) => {
      const conv = b.op1('onnx.Conv', [x!, b.constant(f32([4, 3, 3, 3], 93, -0.5, 0.5))], { pads: attrs.ints([1, 1, 1, 1]) });
      const pooled = b.op1('onnx.LpPool', [conv], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) });
      return b.op1('onnx.Conv', [pooled, b.constant(f32([2, 4, 1, 1], 94, -0.5, 0.5))]);
    },
  },
  // cumulative product and determinant
  ...[[0, 0], [1, 0], [0, 1], [1, 1]].map(([exclusive, reverse]): OpCase => ({
    name: `CumProd exclusive=${exclusive} reverse=${reverse} (opset 26)`,
    inputs: [{ shape: [2, 5, 3], range: [-1.5, 1.5] }],
    opset: 26,
    build: (b, x) => b.op1('onnx.CumProd', [x!, b.constant(Tensor.scalar('int64', 1n))], { exclusive: attrs.int(exclusive!), reverse: attrs.int(reverse!) }),
  })),
  { name: 'CumProd of int32, axis -1', inputs: [{ shape: [2, 4], dtype: 'int32', values: [1, -2, 3, 4, 5, 0, -1, 7] }], opset: 26, build: (b, x) => b.op1('onnx.CumProd', [x!, b.constant(Tensor.scalar('int32', -1))]) },
  { name: 'Det of 1×1', inputs: [{ shape: [3, 1, 1] }], build: (b, x) => b.op1('onnx.Det', [x!]) },
  { name: 'Det of a batch of 2×2', inputs: [{ shape: [3, 2, 2], range: [-2, 2] }], build: (b, x) => b.op1('onnx.Det', [x!]) },
  { name: 'Det of one 3×3 (scalar result)', inputs: [{ shape: [3, 3], range: [-2, 2] }], build: (b, x) => b.op1('onnx.Det', [x!]) },
  ...([[3, 1, 1], [4, 2, 2], [3, 3], [2, 2, 4, 4]] as const).map((shape): OpCase => ({
    name: `com.microsoft Inverse of [${shape.join(', ')}]`,
    // Diagonally dominant matrices: well conditioned, so 1e-4 measures the lowering, not the conditioning.
    inputs: [{ shape: [...shape], values: dominant([...shape]) }],
    opset: 17,
    build: (b, x) => b.op1('com.microsoft.Inverse', [x!]),
  })),
  { name: 'Det of [2, 2, 4, 4]', inputs: [{ shape: [2, 2, 4, 4], range: [-2, 2] }], build: (b, x) => b.op1('onnx.Det', [x!]) },
  // windows (a constant size folds before lowering; a run-time size is computed with RANGE and COS)
  ...(['HannWindow', 'HammingWindow', 'BlackmanWindow'] as const).flatMap((op) => [1, 0].map((periodic): OpCase => ({
    name: `${op} periodic=${periodic}, run-time size`,
    inputs: [{ shape: [], dtype: 'int64', values: [10n] }],
    build: (b, size) => b.op1('onnx.Reshape', [b.op1(`onnx.${op}`, [size!], { periodic: attrs.int(periodic) }), b.constant(i64([10]))]),
  }))),
  {
    name: 'HannWindow of a constant size (folded) applied to frames',
    inputs: [{ shape: [3, 16] }],
    build: (b, x) => b.op1('onnx.Mul', [x!, b.op1('onnx.HannWindow', [b.constant(Tensor.scalar('int32', 16))])]),
  },
  {
    name: 'MelWeightMatrix of constant inputs (folded) applied to a spectrum',
    inputs: [{ shape: [2, 33], range: [0, 4] }],
    build: (b, x) => {
      const scalar = (dtype: 'int64' | 'float32', v: number) => b.constant(dtype === 'int64' ? Tensor.scalar('int64', BigInt(v)) : Tensor.scalar('float32', v));
      const mel = b.op1('onnx.MelWeightMatrix', [scalar('int64', 8), scalar('int64', 64), scalar('int64', 16000), scalar('float32', 20), scalar('float32', 8000)]);
      return b.op1('onnx.MatMul', [x!, mel]);
    },
  },
];

function buildCase(testCase: OpCase): Model {
  const b = new GraphBuilder();
  const inputs = testCase.inputs.map((spec, index) => b.input(`x${index}`, tensorType(spec.dtype ?? 'float32', [...spec.shape])));
  const outputs = testCase.build(b, ...inputs);
  b.output(...(Array.isArray(outputs) ? outputs : [outputs]));
  const model = b.model({ onnx: testCase.opset ?? 17, 'com.microsoft': 1 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

function feedsOf(testCase: OpCase): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  testCase.inputs.forEach((spec, index) => {
    const shape = spec.shape.map((d) => (typeof d === 'number' ? d : 1)); // the TFLite binding runs unknown dims at 1
    const dtype = spec.dtype ?? 'float32';
    feeds[`x${index}`] = spec.values ? Tensor.fromValues(dtype, shape, spec.values as never) : seededTensor(shape, 11 + index, ...(spec.range ?? [-1, 1]));
  });
  return feeds;
}

/** Worst |a − b| where both are finite; a NaN or an infinity must be matched exactly. */
function worstDifference(want: Tensor, got: Tensor): number {
  expect(got.shape).toEqual(want.shape);
  expect(got.dtype).toBe(want.dtype);
  const a = want.toNumbers();
  const b = got.toNumbers();
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [Number(a[i]), Number(b[i])];
    if (Number.isNaN(x) || !Number.isFinite(x)) {
      expect(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)), `element ${i}: ${y} where ORT has ${x}`).toBe(true);
      continue;
    }
    worst = Math.max(worst, Math.abs(x - y));
  }
  return worst;
}

const engine = new TfliteEngine();

async function convertAndCompare(testCase: OpCase): Promise<Model> {
  const original = buildCase(testCase);
  const converted = buildCase(testCase);
  await legalize(converted, 'optimize=false');
  const foreign = converted.graph.nodeList().filter((node) => !node.op.startsWith('tflite.'));
  expect(foreign.map((node) => node.op)).toEqual([]);
  const feeds = feedsOf(testCase);
  const expected = await runOrt(original, feeds);
  const actual = await engine.run(converted, feeds);
  original.graph.outputs.forEach((output, index) => {
    const got = actual.get(converted.graph.outputs[index]!.name);
    expect(got, `output ${output.name}`).toBeDefined();
    expect(worstDifference(expected.get(output.name)!, got!)).toBeLessThanOrEqual(testCase.tolerance ?? 1e-4);
  });
  return converted;
}

describe('legalize-tflite, math family: TFLite runtime against ONNX Runtime', () => {
  for (const testCase of CASES) it(testCase.name, () => convertAndCompare(testCase).then(() => undefined));
});

/** Converts and expects a refusal naming `node` with `reason`; the model is left unchanged. */
async function expectRefusal(testCase: OpCase, node: string, reason: RegExp): Promise<void> {
  const model = buildCase(testCase);
  const before = model.graph.nodeList().map((n) => n.op);
  const error = await legalize(model, 'optimize=false').then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ModelpassError);
  const diagnostics = (error as ModelpassError).diagnostics;
  const hit = diagnostics.find((d) => d.location?.node === node);
  expect(hit, `a diagnostic naming ${node} in ${diagnostics.map((d) => d.reason).join(' | ')}`).toBeDefined();
  expect(hit!.reason).toMatch(reason);
  expect(model.graph.nodeList().map((n) => n.op)).toEqual(before);
}

describe('legalize-tflite, math family: refusals name the node and the reason', () => {
  it('MelWeightMatrix of a run-time DFT length', () =>
    expectRefusal(
      {
        name: '',
        inputs: [{ shape: [], dtype: 'int64' }],
        build: (b, length) => {
          const scalar = (dtype: 'int64' | 'float32', v: number) => b.constant(dtype === 'int64' ? Tensor.scalar('int64', BigInt(v)) : Tensor.scalar('float32', v));
          return b.op1('onnx.MelWeightMatrix', [scalar('int64', 8), length!, scalar('int64', 16000), scalar('float32', 0), scalar('float32', 8000)], {}, { name: 'mel' });
        },
      },
      'mel',
      /run-time inputs/,
    ));
  it('Hardmax over a dynamic axis', () =>
    expectRefusal({ name: '', inputs: [{ shape: [2, 'n'] }], opset: 13, build: (b, x) => b.op1('onnx.Hardmax', [x!], {}, { name: 'hardmax_n' }) }, 'hardmax_n', /static size along its axis/));
  it('BitwiseAnd of int64 (no int64 FLOOR_DIV in TFLite 2.9)', () =>
    expectRefusal({ name: '', inputs: [{ shape: [3], dtype: 'int64' }, { shape: [3], dtype: 'int64' }], opset: 18, build: (b, x, y) => b.op1('onnx.BitwiseAnd', [x!, y!], {}, { name: 'and64' }) }, 'and64', /int64/));
  it('BitShift of uint64', () =>
    expectRefusal({ name: '', inputs: [{ shape: [3], dtype: 'uint64' }, { shape: [3], dtype: 'uint64' }], build: (b, x, y) => b.op1('onnx.BitShift', [x!, y!], { direction: attrs.string('RIGHT') }, { name: 'shift64' }) }, 'shift64', /uint8 and uint32/));
  it('Inverse of 5×5 matrices', () =>
    expectRefusal({ name: '', inputs: [{ shape: [5, 5] }], build: (b, x) => b.op1('com.microsoft.Inverse', [x!], {}, { name: 'inverse5' }) }, 'inverse5', /up to 4×4/));
  it('Det of 5×5 matrices', () =>
    expectRefusal({ name: '', inputs: [{ shape: [5, 5] }], build: (b, x) => b.op1('onnx.Det', [x!], {}, { name: 'det5' }) }, 'det5', /up to 4×4/));
  it('CumProd over a dynamic axis', () =>
    expectRefusal({ name: '', inputs: [{ shape: [2, 'n'] }], opset: 26, build: (b, x) => b.op1('onnx.CumProd', [x!, b.constant(Tensor.scalar('int64', 1n))], {}, { name: 'cumprod_n' }) }, 'cumprod_n', /static length/));
  it('dilated LpPool', () =>
    expectRefusal({ name: '', inputs: [{ shape: [1, 2, 6, 6] }], opset: 18, build: (b, x) => b.op1('onnx.LpPool', [x!], { kernel_shape: attrs.ints([2, 2]), dilations: attrs.ints([2, 2]) }, { name: 'lp_dilated' }) }, 'lp_dilated', /dilated/));
  it('MeanVarianceNormalization of rank 5 (TFLite 2.9 SUB/ADD broadcast at most 4-D)', () =>
    expectRefusal({ name: '', inputs: [{ shape: [1, 2, 2, 2, 2] }], build: (b, x) => b.op1('onnx.MeanVarianceNormalization', [x!], {}, { name: 'mvn5' }) }, 'mvn5', /rank-5 input/));
  it('RandomUniform of rank 5 with a range', () =>
    expectRefusal({ name: '', inputs: [], build: (b) => b.op1('onnx.RandomUniform', [], { shape: attrs.ints([1, 2, 2, 2, 2]), high: attrs.float(4) }, { name: 'uniform5' }) }, 'uniform5', /at most 4-D/));
  it('Mean broadcasting rank-5 operands', () =>
    expectRefusal({ name: '', inputs: [{ shape: [1, 2, 2, 2, 2] }, { shape: [2, 1, 1, 1] }], build: (b, x, y) => b.op1('onnx.Mean', [x!, y!], {}, { name: 'mean5' }) }, 'mean5', /at most 4-D/));
  // (float64 and float16 are computed in float32 since legalize-tflite's float64 and float16 steps; bfloat16 is still refused.)
  it('Atan of bfloat16', () =>
    expectRefusal({ name: '', inputs: [{ shape: [3], dtype: 'bfloat16' }], build: (b, x) => b.op1('onnx.Atan', [x!], {}, { name: 'atan16' }) }, 'atan16', /is bfloat16/));
});

/** Runs the converted model once in the TFLite runtime and the original in ORT; both outputs' shape and dtype must agree. */
async function drawBoth(testCase: OpCase): Promise<Tensor> {
  const original = buildCase(testCase);
  const converted = buildCase(testCase);
  await legalize(converted, 'optimize=false');
  expect(converted.graph.nodeList().filter((node) => !node.op.startsWith('tflite.')).map((node) => node.op)).toEqual([]);
  const feeds = feedsOf(testCase);
  const ort = [...(await runOrt(original, feeds)).values()][0]!;
  const tflite = [...(await engine.run(converted, feeds)).values()][0]!;
  expect(tflite.shape).toEqual(ort.shape);
  expect(tflite.dtype).toBe(ort.dtype);
  return tflite;
}

function moments(values: readonly number[]): { mean: number; std: number; min: number; max: number } {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
  return { mean, std, min: Math.min(...values), max: Math.max(...values) };
}

describe('legalize-tflite, random ops: TFLite kernels draw the same distributions (shape, dtype, statistics)', () => {
  const zeros = (shape: number[]): InputSpec => ({ shape, values: new Array<number>(shape.reduce((n, d) => n * d, 1)).fill(0) });
  it('RandomUniform low=-2 high=3', async () => {
    const y = await drawBoth({ name: '', inputs: [zeros([100, 100])], build: (b, x) => b.op1('onnx.Add', [x!, b.op1('onnx.RandomUniform', [], { shape: attrs.ints([100, 100]), low: attrs.float(-2), high: attrs.float(3), seed: attrs.float(5) })]) });
    const m = moments(y.toNumbers() as number[]);
    expect(m.min).toBeGreaterThanOrEqual(-2);
    expect(m.max).toBeLessThan(3);
    expect(Math.abs(m.mean - 0.5)).toBeLessThan(0.06);
    expect(Math.abs(m.std - 5 / Math.sqrt(12))).toBeLessThan(0.05);
  });
  it('RandomNormalLike mean=1 scale=2 (run-time shape)', async () => {
    const y = await drawBoth({ name: '', inputs: [{ shape: ['n', 10000] }], build: (b, x) => b.op1('onnx.RandomNormalLike', [x!], { mean: attrs.float(1), scale: attrs.float(2) }) });
    expect(y.shape).toEqual([1, 10000]);
    const m = moments(y.toNumbers() as number[]);
    expect(Math.abs(m.mean - 1)).toBeLessThan(0.08);
    expect(Math.abs(m.std - 2)).toBeLessThan(0.08);
  });
  it('RandomNormal and RandomUniformLike (defaults)', async () => {
    const y = await drawBoth({
      name: '',
      inputs: [zeros([50, 200])],
      build: (b, x) => b.op1('onnx.Add', [b.op1('onnx.RandomUniformLike', [x!]), b.op1('onnx.RandomNormal', [], { shape: attrs.ints([50, 200]) })]),
    });
    const m = moments(y.toNumbers() as number[]);
    expect(Math.abs(m.mean - 0.5)).toBeLessThan(0.06);
    expect(Math.abs(m.std - Math.sqrt(1 + 1 / 12))).toBeLessThan(0.06);
  });
  for (const dtype of [undefined, 6, 9] as const) {
    it(`Bernoulli${dtype === undefined ? '' : ` dtype=${dtype}`}: 0 and 1 exactly, 0.3 and 0.75 on average`, async () => {
      const probabilities = [0, 1, 0.3, 0.75].flatMap((p) => new Array<number>(2500).fill(p));
      const y = await drawBoth({ name: '', inputs: [{ shape: [4, 2500], values: probabilities }], build: (b, p) => b.op1('onnx.Bernoulli', [p!], dtype === undefined ? {} : { dtype: attrs.int(dtype) }) });
      const values = y.toNumbers().map(Number);
      const rowMean = (row: number) => values.slice(row * 2500, (row + 1) * 2500).reduce((s, v) => s + v, 0) / 2500;
      expect(new Set(values)).toEqual(new Set([0, 1]));
      expect(rowMean(0)).toBe(0);
      expect(rowMean(1)).toBe(1);
      expect(Math.abs(rowMean(2) - 0.3)).toBeLessThan(0.04);
      expect(Math.abs(rowMean(3) - 0.75)).toBeLessThan(0.04);
    });
  }
  it('Multinomial int64: class frequencies follow the probabilities', async () => {
    const logits = [0.2, 0.5, 0.3, 0.9, 0.05, 0.05].map(Math.log);
    const y = await drawBoth({ name: '', inputs: [{ shape: [2, 3], values: logits }], build: (b, x) => b.op1('onnx.Multinomial', [x!], { sample_size: attrs.int(4000), dtype: attrs.int(7), seed: attrs.float(3) }) });
    expect(y.shape).toEqual([2, 4000]);
    const values = y.toNumbers().map(Number);
    [[0.2, 0.5, 0.3], [0.9, 0.05, 0.05]].forEach((probabilities, row) => {
      const samples = values.slice(row * 4000, (row + 1) * 4000);
      probabilities.forEach((p, k) => expect(Math.abs(samples.filter((v) => v === k).length / 4000 - p)).toBeLessThan(0.03));
    });
  });
});

/** The ops this family added to the canonical set: their reference kernels against ONNX Runtime. */
const REFERENCE_CASES: OpCase[] = [
  ...(['BitwiseAnd', 'BitwiseOr', 'BitwiseXor'] as const).flatMap((op) => (['int32', 'uint8', 'int64'] as const).map((dtype): OpCase => ({
    name: `${op} ${dtype}`,
    inputs: [
      { shape: [2, 3], dtype, values: (dtype === 'uint8' ? [0, 255, 17, 128, 99, 3] : [-7, 255, 17, -128, 99, 3]).map((v) => (dtype === 'int64' ? BigInt(v) : v)) },
      { shape: [3], dtype, values: [12, 240, 5].map((v) => (dtype === 'int64' ? BigInt(v) : v)) },
    ],
    opset: 18,
    build: (b, x, y) => b.op1(`onnx.${op}`, [x!, y!]),
  }))),
  ...(['int8', 'uint8', 'uint32', 'int64'] as const).map((dtype): OpCase => ({
    name: `BitwiseNot ${dtype}`,
    inputs: [{ shape: [4], dtype, values: [0, 1, 100, 127].map((v) => (dtype === 'int64' ? BigInt(v) : v)) }],
    opset: 18,
    build: (b, x) => b.op1('onnx.BitwiseNot', [x!]),
  })),
  { name: 'CumProd exclusive reverse', inputs: [{ shape: [3, 4], range: [-2, 2] }], opset: 26, build: (b, x) => b.op1('onnx.CumProd', [x!, b.constant(Tensor.scalar('int64', 1n))], { exclusive: attrs.int(1), reverse: attrs.int(1) }) },
  { name: 'RMSNormalization axis 1', inputs: [{ shape: [2, 3, 4] }], opset: 23, build: (b, x) => b.op1('onnx.RMSNormalization', [x!, b.constant(f32([3, 4], 95))], { axis: attrs.int(1) }) },
  { name: 'GlobalLpPool p=3', inputs: [{ shape: [2, 3, 4, 5] }], build: (b, x) => b.op1('onnx.GlobalLpPool', [x!], { p: attrs.int(3) }) },
  ...(['HannWindow', 'HammingWindow', 'BlackmanWindow'] as const).flatMap((op) => [0, 1].map((periodic): OpCase => ({
    name: `${op} periodic=${periodic}`,
    inputs: [{ shape: [], dtype: 'int64', values: [12n] }],
    build: (b, size) => b.op1(`onnx.${op}`, [size!], { periodic: attrs.int(periodic) }),
  }))),
  ...([[8, 64, 16000, 20, 8000], [13, 256, 22050, 0, 11025], [5, 31, 1000, 100, 300]] as const).map(([bins, dft, rate, low, high]): OpCase => ({
    name: `MelWeightMatrix ${bins} bins, DFT ${dft}, ${rate} Hz, ${low}–${high} Hz`,
    inputs: [{ shape: [], dtype: 'int64', values: [BigInt(dft)] }],
    build: (b, length) => {
      const scalar = (dtype: 'int64' | 'float32', v: number) => b.constant(dtype === 'int64' ? Tensor.scalar('int64', BigInt(v)) : Tensor.scalar('float32', v));
      return b.op1('onnx.MelWeightMatrix', [scalar('int64', bins), length!, scalar('int64', rate), scalar('float32', low), scalar('float32', high)]);
    },
  })),
];

describe('@modelpass/ops reference kernels of the added ops against ONNX Runtime', () => {
  for (const testCase of REFERENCE_CASES) {
    it(testCase.name, async () => {
      const model = buildCase(testCase);
      const feeds = feedsOf(testCase);
      const expected = await runOrt(model, feeds);
      const actual = runReference(model, feeds);
      for (const output of model.graph.outputs) expect(worstDifference(expected.get(output.name)!, actual.get(output.name) as Tensor)).toBeLessThanOrEqual(1e-5);
    });
  }
});
