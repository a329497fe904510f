/**
 * Op coverage of legalize-tflite, judged by the TFLite runtime (TFLite 2.9's C library): for each
 * case a small canonical model is built, legalized (verify-each on, tflite dialect registered), and
 * the TFLite runtime's outputs must be within 1e-4 of ONNX Runtime's on the original. Every node of
 * the result must be a tflite op.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, type Attribute, type Model, type Value } from '@modelpass/ir';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { compareInRuntimes, feedsFor, legalize, seededTensor, singleInputModel } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

interface OpCase {
  readonly name: string;
  readonly input: readonly number[];
  readonly opset?: number;
  /** Input value range (default [-1, 1]). */
  readonly range?: [number, number];
  /** Run fold-qdq before legalizing (DequantizeLinear of constants becomes a quant<> type). */
  readonly foldQdq?: boolean;
  readonly build: (b: GraphBuilder, x: Value) => Value | Value[];
}

const f32 = (shape: number[], seed = 3, lo = -1, hi = 1): Tensor => seededTensor(shape, seed, lo, hi);
const i64 = (values: number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));
const scalar = (v: number): Tensor => Tensor.scalar('float32', v);

function unary(op: string, attributes: Record<string, Attribute> = {}, extra: Partial<OpCase> = {}): OpCase {
  return { name: op, input: [2, 3, 4, 5], build: (b, x) => b.op1(`onnx.${op}`, [x], attributes), ...extra };
}

function binaryWithConstant(op: string, constantShape: number[]): OpCase {
  return { name: `${op} with a [${constantShape.join(',')}] constant`, input: [2, 3, 4, 5], build: (b, x) => b.op1(`onnx.${op}`, [x, b.constant(f32(constantShape, 5, 0.5, 1.5))]) };
}

const CONV_W = (o: number, i: number, k: number, seed = 9) => f32([o, i, k, k], seed, -0.5, 0.5);

const CASES: OpCase[] = [
  // layout-sensitive ops (NHWC builtins between transposes that cancel)
  { name: 'Conv 3x3 SAME-equal pads + bias', input: [1, 3, 8, 8], build: (b, x) => b.op1('onnx.Conv', [x, b.constant(CONV_W(4, 3, 3)), b.constant(f32([4], 2))], { pads: attrs.ints([1, 1, 1, 1]) }) },
  { name: 'Conv stride 2, asymmetric explicit pads', input: [1, 3, 9, 9], build: (b, x) => b.op1('onnx.Conv', [x, b.constant(CONV_W(5, 3, 3))], { strides: attrs.ints([2, 2]), pads: attrs.ints([0, 1, 2, 1]) }) },
  { name: 'Conv dilation 2', input: [1, 2, 10, 10], build: (b, x) => b.op1('onnx.Conv', [x, b.constant(CONV_W(3, 2, 3))], { dilations: attrs.ints([2, 2]) }) },
  { name: 'Conv depthwise (group = C, multiplier 2)', input: [1, 4, 7, 7], build: (b, x) => b.op1('onnx.Conv', [x, b.constant(CONV_W(8, 1, 3)), b.constant(f32([8], 4))], { group: attrs.int(4), pads: attrs.ints([1, 1, 1, 1]) }) },
  { name: 'Conv grouped (group 2)', input: [1, 4, 6, 6], build: (b, x) => b.op1('onnx.Conv', [x, b.constant(CONV_W(6, 2, 3)), b.constant(f32([6], 4))], { group: attrs.int(2) }) },
  {
    name: 'Conv with int8 per-channel weights behind DequantizeLinear',
    input: [1, 3, 6, 6],
    opset: 13,
    build: (b, x) => {
      const q = Tensor.fromValues('int8', [4, 3, 3, 3], Array.from({ length: 108 }, (_, i) => ((i * 37) % 255) - 127));
      const scale = Tensor.fromValues('float32', [4], [0.01, 0.02, 0.005, 0.03]);
      const zero = Tensor.fromValues('int8', [4], [0, 0, 0, 0]);
      const w = b.op1('onnx.DequantizeLinear', [b.constant(q), b.constant(scale), b.constant(zero)], { axis: attrs.int(0) });
      return b.op1('onnx.Conv', [x, w], { pads: attrs.ints([1, 1, 1, 1]) });
    },
  },
  {
    name: 'Conv with quant<> int8 weights (after fold-qdq)',
    input: [1, 3, 6, 6],
    opset: 13,
    foldQdq: true,
    build: (b, x) => {
      const q = Tensor.fromValues('int8', [4, 3, 3, 3], Array.from({ length: 108 }, (_, i) => ((i * 53) % 255) - 127));
      const scale = Tensor.fromValues('float32', [4], [0.01, 0.02, 0.005, 0.03]);
      const zero = Tensor.fromValues('int8', [4], [0, 1, -2, 3]);
      const w = b.op1('onnx.DequantizeLinear', [b.constant(q), b.constant(scale), b.constant(zero)], { axis: attrs.int(0) });
      return b.op1('onnx.Conv', [x, w], { pads: attrs.ints([1, 1, 1, 1]) });
    },
  },
  { name: 'Conv + Relu (fused)', input: [1, 3, 6, 6], build: (b, x) => b.op1('onnx.Relu', [b.op1('onnx.Conv', [x, b.constant(CONV_W(4, 3, 1))])]) },
  { name: 'Conv + Clip(0,6) (fused RELU6)', input: [1, 3, 6, 6], build: (b, x) => b.op1('onnx.Clip', [b.op1('onnx.Conv', [x, b.constant(CONV_W(4, 3, 1, 11))]), b.constant(scalar(0)), b.constant(scalar(6))]) },
  { name: 'ConvTranspose stride 2', input: [1, 3, 4, 4], build: (b, x) => b.op1('onnx.ConvTranspose', [x, b.constant(f32([3, 2, 2, 2], 13)), b.constant(f32([2], 14))], { strides: attrs.ints([2, 2]) }) },
  { name: 'MaxPool 3x3 s2 pads 1', input: [1, 3, 9, 9], build: (b, x) => b.op1('onnx.MaxPool', [x], { kernel_shape: attrs.ints([3, 3]), strides: attrs.ints([2, 2]), pads: attrs.ints([1, 1, 1, 1]) }) },
  { name: 'MaxPool ceil_mode', input: [1, 2, 8, 8], build: (b, x) => b.op1('onnx.MaxPool', [x], { kernel_shape: attrs.ints([3, 3]), strides: attrs.ints([2, 2]), ceil_mode: attrs.int(1) }) },
  { name: 'AveragePool count_include_pad=1', input: [1, 2, 6, 6], build: (b, x) => b.op1('onnx.AveragePool', [x], { kernel_shape: attrs.ints([3, 3]), pads: attrs.ints([1, 1, 1, 1]), count_include_pad: attrs.int(1) }) },
  { name: 'AveragePool SAME (count_include_pad=0)', input: [1, 2, 6, 6], build: (b, x) => b.op1('onnx.AveragePool', [x], { kernel_shape: attrs.ints([3, 3]), pads: attrs.ints([1, 1, 1, 1]) }) },
  { name: 'GlobalAveragePool', input: [2, 3, 5, 5], build: (b, x) => b.op1('onnx.GlobalAveragePool', [x]) },
  { name: 'GlobalMaxPool', input: [2, 3, 5, 5], build: (b, x) => b.op1('onnx.GlobalMaxPool', [x]) },
  {
    name: 'BatchNormalization (standalone)',
    input: [2, 3, 4, 4],
    build: (b, x) => b.op1('onnx.BatchNormalization', [x, b.constant(f32([3], 1, 0.5, 1)), b.constant(f32([3], 2)), b.constant(f32([3], 3)), b.constant(f32([3], 4, 0.5, 1))]),
  },
  { name: 'DepthToSpace DCR', input: [1, 8, 3, 3], build: (b, x) => b.op1('onnx.DepthToSpace', [x], { blocksize: attrs.int(2), mode: attrs.string('DCR') }) },
  { name: 'SpaceToDepth', input: [1, 2, 4, 6], build: (b, x) => b.op1('onnx.SpaceToDepth', [x], { blocksize: attrs.int(2) }) },
  {
    name: 'Resize nearest (asymmetric, floor) x2',
    input: [1, 2, 3, 4],
    build: (b, x) =>
      b.op1('onnx.Resize', [x, null, b.constant(Tensor.fromValues('float32', [4], [1, 1, 2, 2]))], { mode: attrs.string('nearest'), coordinate_transformation_mode: attrs.string('asymmetric'), nearest_mode: attrs.string('floor') }),
  },
  {
    name: 'Resize linear (half_pixel) x2',
    input: [1, 2, 3, 4],
    build: (b, x) => b.op1('onnx.Resize', [x, null, b.constant(Tensor.fromValues('float32', [4], [1, 1, 2, 2]))], { mode: attrs.string('linear'), coordinate_transformation_mode: attrs.string('half_pixel') }),
  },
  { name: 'LRN', input: [1, 6, 3, 3], build: (b, x) => b.op1('onnx.LRN', [x], { size: attrs.int(3), alpha: attrs.float(0.001), beta: attrs.float(0.75), bias: attrs.float(1) }) },
  // elementwise
  ...['Relu', 'Sigmoid', 'Tanh', 'Exp', 'Abs', 'Neg', 'Floor', 'Ceil', 'Sign', 'HardSwish', 'Softplus', 'Sin', 'Cos'].map((op) => unary(op)),
  unary('Round', {}, { range: [-3.3, 3.3] }),
  unary('Log', {}, { range: [0.1, 3] }),
  unary('Sqrt', {}, { range: [0.1, 3] }),
  unary('Reciprocal', {}, { range: [0.5, 3] }),
  unary('LeakyRelu', { alpha: attrs.float(0.2) }),
  unary('Elu'),
  unary('HardSigmoid', { alpha: attrs.float(0.3), beta: attrs.float(0.4) }),
  { ...unary('Gelu'), opset: 20 },
  {
    name: 'GELU as torch writes it (Erf)',
    input: [2, 5, 6],
    build: (b, x) => {
      const erf = b.op1('onnx.Erf', [b.op1('onnx.Div', [x, b.constant(scalar(Math.SQRT2))])]);
      return b.op1('onnx.Mul', [b.op1('onnx.Mul', [x, b.op1('onnx.Add', [erf, b.constant(scalar(1))])]), b.constant(scalar(0.5))]);
    },
  },
  { name: 'Clip(-0.5, 0.5)', input: [2, 3, 4], build: (b, x) => b.op1('onnx.Clip', [x, b.constant(scalar(-0.5)), b.constant(scalar(0.5))]) },
  { name: 'Clip(-1, 1) (RELU_N1_TO_1)', input: [2, 3, 4], range: [-2, 2], build: (b, x) => b.op1('onnx.Clip', [x, b.constant(scalar(-1)), b.constant(scalar(1))]) },
  ...['Add', 'Sub', 'Mul', 'Div'].map((op) => binaryWithConstant(op, [3, 1, 1])),
  { ...binaryWithConstant('Pow', []), range: [0.1, 2] },
  binaryWithConstant('PRelu', [3, 1, 1]),
  { name: 'Max/Min/Sum of three', input: [2, 3, 4], build: (b, x) => {
    const y = b.op1('onnx.Neg', [x]);
    const z = b.op1('onnx.Sigmoid', [x]);
    return [b.op1('onnx.Max', [x, y, z]), b.op1('onnx.Min', [x, y, z]), b.op1('onnx.Sum', [x, y, z])];
  } },
  { name: 'Where(Greater)', input: [2, 3, 4], build: (b, x) => b.op1('onnx.Where', [b.op1('onnx.Greater', [x, b.constant(scalar(0))]), x, b.op1('onnx.Neg', [x])]) },
  {
    name: 'Equal/Less/And/Or/Not → Cast',
    input: [2, 3, 4],
    build: (b, x) => {
      const r = b.op1('onnx.Round', [x]);
      const e = b.op1('onnx.Equal', [r, b.constant(scalar(0))]);
      const l = b.op1('onnx.Less', [x, b.constant(scalar(0.3))]);
      const g = b.op1('onnx.GreaterOrEqual', [x, b.constant(scalar(-0.3))]);
      const le = b.op1('onnx.LessOrEqual', [x, b.constant(scalar(0.5))]);
      const logic = b.op1('onnx.Or', [b.op1('onnx.And', [e, l]), b.op1('onnx.Not', [b.op1('onnx.And', [g, le])])]);
      return b.op1('onnx.Cast', [logic], { to: attrs.int(1) });
    },
  },
  {
    name: 'Mod (fmod=0) on int32',
    input: [2, 3, 4],
    range: [-5, 5],
    build: (b, x) => b.op1('onnx.Cast', [b.op1('onnx.Mod', [b.op1('onnx.Cast', [x], { to: attrs.int(6) }), b.constant(Tensor.scalar('int32', 3))])], { to: attrs.int(1) }),
  },
  // matrix products
  { name: 'MatMul by a constant (rank 3, FULLY_CONNECTED keep_num_dims)', input: [2, 5, 6], build: (b, x) => b.op1('onnx.MatMul', [x, b.constant(f32([6, 4], 21))]) },
  { name: 'MatMul of two activations (BATCH_MATMUL)', input: [2, 5, 6], build: (b, x) => b.op1('onnx.MatMul', [x, b.op1('onnx.Transpose', [x], { perm: attrs.ints([0, 2, 1]) })]) },
  { name: 'Gemm transB alpha beta bias', input: [3, 6], build: (b, x) => b.op1('onnx.Gemm', [x, b.constant(f32([4, 6], 22)), b.constant(f32([4], 23))], { transB: attrs.int(1), alpha: attrs.float(0.5), beta: attrs.float(2) }) },
  { name: 'Gemm transA, 2-D bias', input: [6, 3], build: (b, x) => b.op1('onnx.Gemm', [x, b.constant(f32([6, 4], 24)), b.constant(f32([3, 4], 25))], { transA: attrs.int(1) }) },
  // shapes and axes
  { name: 'Reshape', input: [2, 3, 4], build: (b, x) => b.op1('onnx.Reshape', [x, b.constant(i64([0, 12]))]) },
  { name: 'Flatten', input: [2, 3, 2, 2], build: (b, x) => b.op1('onnx.Flatten', [x], { axis: attrs.int(1) }) },
  { name: 'Squeeze/Unsqueeze', input: [2, 1, 4], build: (b, x) => b.op1('onnx.Unsqueeze', [b.op1('onnx.Squeeze', [x, b.constant(i64([1]))]), b.constant(i64([0]))]) },
  { name: 'Transpose', input: [2, 3, 4], build: (b, x) => b.op1('onnx.Transpose', [x], { perm: attrs.ints([2, 0, 1]) }) },
  { name: 'Concat', input: [2, 3, 4], build: (b, x) => b.op1('onnx.Concat', [x, b.op1('onnx.Neg', [x]), b.constant(f32([2, 3, 1], 26))], { axis: attrs.int(-1) }) },
  { name: 'Split equal', input: [2, 6, 4], build: (b, x) => b.op('onnx.Split', [x], { axis: attrs.int(1) }, { outputs: 3 }) },
  { name: 'Split unequal', input: [2, 6, 4], build: (b, x) => b.op('onnx.Split', [x, b.constant(i64([1, 2, 3]))], { axis: attrs.int(1) }, { outputs: 3 }) },
  { name: 'Slice with steps and negative bounds', input: [4, 6, 5], build: (b, x) => b.op1('onnx.Slice', [x, b.constant(i64([1, -1])), b.constant(i64([2 ** 31 + 5, -6])), b.constant(i64([0, 1])), b.constant(i64([2, -2]))]) },
  { name: 'Pad constant 0', input: [1, 2, 3, 4], build: (b, x) => b.op1('onnx.Pad', [x, b.constant(i64([0, 0, 1, 2, 0, 0, 2, 1]))]) },
  { name: 'Pad constant 1.5', input: [1, 2, 3, 4], build: (b, x) => b.op1('onnx.Pad', [x, b.constant(i64([0, 1, 0, 0, 0, 0, 1, 1])), b.constant(scalar(1.5))]) },
  { name: 'Pad reflect', input: [1, 2, 4, 4], build: (b, x) => b.op1('onnx.Pad', [x, b.constant(i64([0, 0, 1, 2, 0, 0, 2, 1]))], { mode: attrs.string('reflect') }) },
  { name: 'Gather with a negative index', input: [5, 3], build: (b, x) => b.op1('onnx.Gather', [x, b.constant(i64([0, -1, 2]))], { axis: attrs.int(0) }) },
  { name: 'Expand', input: [3, 1], build: (b, x) => b.op1('onnx.Expand', [x, b.constant(i64([2, 3, 4]))]) },
  { name: 'Tile', input: [2, 3], build: (b, x) => b.op1('onnx.Tile', [x, b.constant(i64([2, 3]))]) },
  ...['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin'].flatMap((op) => [0, 1].map((keepdims) => ({
    name: `${op} keepdims=${keepdims}`,
    input: [2, 3, 4],
    opset: 13,
    build: (b: GraphBuilder, x: Value) =>
      op === 'ReduceSum' ? b.op1(`onnx.${op}`, [x, b.constant(i64([1, -1]))], { keepdims: attrs.int(keepdims) }) : b.op1(`onnx.${op}`, [x], { axes: attrs.ints([1, -1]), keepdims: attrs.int(keepdims) }),
  }))),
  { name: 'ReduceProd', input: [2, 3, 4], range: [0.5, 1.5], opset: 13, build: (b, x) => b.op1('onnx.ReduceProd', [x], { axes: attrs.ints([2]), keepdims: attrs.int(0) }) },
  { name: 'ArgMax keepdims → Cast', input: [2, 5, 3], build: (b, x) => b.op1('onnx.Cast', [b.op1('onnx.ArgMax', [x], { axis: attrs.int(1) })], { to: attrs.int(1) }) },
  { name: 'Softmax last axis', input: [2, 3, 5], build: (b, x) => b.op1('onnx.Softmax', [x], { axis: attrs.int(-1) }) },
  { name: 'Softmax axis 1', input: [2, 3, 5], build: (b, x) => b.op1('onnx.Softmax', [x], { axis: attrs.int(1) }) },
  { name: 'LogSoftmax', input: [2, 7], build: (b, x) => b.op1('onnx.LogSoftmax', [x], { axis: attrs.int(-1) }) },
  { name: 'LayerNormalization', input: [2, 3, 8], opset: 17, build: (b, x) => b.op1('onnx.LayerNormalization', [x, b.constant(f32([8], 31, 0.5, 1.5)), b.constant(f32([8], 32))], { axis: attrs.int(-1) }) },
  { name: 'Identity and Dropout', input: [2, 3], build: (b, x) => b.op1('onnx.Dropout', [b.op1('onnx.Identity', [x])]) },
  { name: 'Cast float → int32 → float', input: [2, 3], range: [-4, 4], build: (b, x) => b.op1('onnx.Cast', [b.op1('onnx.Cast', [x], { to: attrs.int(6) })], { to: attrs.int(1) }) },
];

const buildCase = (testCase: OpCase): Model => singleInputModel(testCase);

describe('legalize-tflite op by op: TFLite runtime within 1e-4 of ONNX Runtime', () => {
  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const original = buildCase(testCase);
      const converted = buildCase(testCase);
      await legalize(converted, 'optimize=false', testCase.foldQdq ? 'fold-qdq,' : '');
      const foreign = converted.graph.nodeList().filter((node) => !node.op.startsWith('tflite.'));
      expect(foreign.map((node) => node.op)).toEqual([]);
      const differences = await compareInRuntimes(original, converted, feedsFor(original, 7, testCase.range ?? [-1, 1]));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
    });
  }
});
