/**
 * More op coverage of legalize-tflite (ops without a TFLite builtin of their own, or with one that
 * differs from ONNX's semantics), judged like tflite-legalize-ops.test.ts: the TFLite runtime
 * (TFLite 2.9) must be within 1e-4 of ONNX Runtime on the original model, and every node of the
 * result must be a tflite op.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Tensor, type Attribute, type Model } from '@modelpass/ir';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { countTransposes } from '@modelpass/tflite';
import { compareInRuntimes, feedsFor, legalize, seededTensor, singleInputModel, type SingleInputCase } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

interface OpCase extends SingleInputCase {
  readonly name: string;
  /** Input value range (default [-1, 1]). */
  readonly range?: [number, number];
  /** Transposes the converted graph may keep inside (checked when given). */
  readonly transposesInside?: number;
}

const f32 = (shape: number[], seed = 3, lo = -1, hi = 1): Tensor => seededTensor(shape, seed, lo, hi);
const i64 = (values: number[], shape = [values.length]): Tensor => Tensor.fromValues('int64', shape, values.map((v) => BigInt(v)));

function unary(op: string, attributes: Record<string, Attribute> = {}, extra: Partial<OpCase> = {}): OpCase {
  const named = Object.entries(attributes).map(([key, value]) => `${key}=${String(value.value)}`).join(' ');
  return { name: `${op}${named ? ` ${named}` : ''}`, input: [2, 3, 4, 5], range: [-3, 3], build: (b, x) => b.op1(`onnx.${op}`, [x], attributes), ...extra };
}

const CASES: OpCase[] = [
  // activations written with elementwise builtins
  unary('Erf'),
  unary('Erf', {}, { name: 'Erf over [-6, 6]', range: [-6, 6] }),
  unary('Selu'),
  unary('Selu', { alpha: attrs.float(2), gamma: attrs.float(0.5) }),
  unary('Celu'),
  unary('Celu', { alpha: attrs.float(0.5) }),
  unary('Mish', {}, { range: [-20, 20], opset: 18 }),
  unary('ThresholdedRelu'),
  unary('ThresholdedRelu', { alpha: attrs.float(0.25) }),
  // reductions without a builtin (opset 13: axes attribute; 18: axes input)
  ...['ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSumExp'].flatMap((op) => [0, 1].map((keepdims): OpCase => ({
    name: `${op} keepdims=${keepdims}`,
    input: [2, 3, 4],
    range: [-4, 4],
    opset: 13,
    build: (b, x) => b.op1(`onnx.${op}`, [x], { axes: attrs.ints([1, -1]), keepdims: attrs.int(keepdims) }),
  }))),
  { name: 'ReduceLogSum (opset 18, axes input)', input: [2, 3, 4], range: [0.1, 2], opset: 18, build: (b, x) => b.op1('onnx.ReduceLogSum', [x, b.constant(i64([0]))], { keepdims: attrs.int(0) }) },
  { name: 'ReduceLogSumExp of large values (no overflow)', input: [3, 5], range: [80, 120], opset: 13, build: (b, x) => b.op1('onnx.ReduceLogSumExp', [x], { axes: attrs.ints([1]) }) },
  { name: 'ReduceL2 over all axes', input: [2, 3], opset: 13, build: (b, x) => b.op1('onnx.ReduceL2', [x], { keepdims: attrs.int(0) }) },
  // indexing
  ...[[0, 0], [1, 0], [0, 1], [1, 1]].map(([exclusive, reverse]): OpCase => ({
    name: `CumSum exclusive=${exclusive} reverse=${reverse}`,
    input: [2, 3, 4],
    build: (b, x) => b.op1('onnx.CumSum', [x, b.constant(Tensor.fromValues('int64', [], [-2n]))], { exclusive: attrs.int(exclusive!), reverse: attrs.int(reverse!) }),
  })),
  { name: 'TopK (values and int64 indices)', input: [3, 7], build: (b, x) => b.op('onnx.TopK', [x, b.constant(i64([3]))], { axis: attrs.int(-1) }, { outputs: 2 }) },
  {
    name: 'OneHot of run-time indices (negative and out of range)',
    input: [2, 5],
    range: [-4.9, 4.9],
    opset: 11,
    build: (b, x) => b.op1('onnx.OneHot', [b.op1('onnx.Cast', [x], { to: attrs.int(7) }), b.constant(i64([3])), b.constant(Tensor.fromValues('float32', [2], [-0.5, 2]))], { axis: attrs.int(1) }),
  },
  { name: 'GatherND with constant negative indices', input: [3, 4, 2], build: (b, x) => b.op1('onnx.GatherND', [x, b.constant(i64([0, 1, -1, 2, 2, -4], [3, 2]))]) },
  {
    name: 'GatherND with run-time indices',
    input: [2, 2],
    range: [-2.9, 2.9],
    build: (b, x) => b.op1('onnx.GatherND', [b.constant(f32([3, 4, 5], 41)), b.op1('onnx.Cast', [x], { to: attrs.int(7) })]),
  },
  {
    name: 'ScatterND rows (negative index) into run-time data',
    input: [4, 3],
    build: (b, x) => b.op1('onnx.ScatterND', [x, b.constant(i64([-1, 1], [2, 1])), b.constant(f32([2, 3], 71, 5, 6))]),
  },
  {
    name: 'ScatterND elements of run-time updates',
    input: [3],
    build: (b, x) => b.op1('onnx.ScatterND', [b.constant(f32([2, 4], 72)), b.constant(i64([0, 3, 1, 0, 1, 2], [3, 2])), x]),
  },
  {
    name: 'GatherElements axis 1, constant indices (one negative)',
    input: [3, 4],
    build: (b, x) => b.op1('onnx.GatherElements', [x, b.constant(i64([0, 3, -1, 2, 1, 1, 0, 0, 3, 2, 2, 1], [3, 4]))], { axis: attrs.int(1) }),
  },
  {
    name: 'GatherElements axis 0, run-time indices',
    input: [2, 3],
    range: [-1.9, 2.9],
    build: (b, x) => b.op1('onnx.GatherElements', [b.constant(f32([3, 3], 73)), b.op1('onnx.Cast', [x], { to: attrs.int(7) })], { axis: attrs.int(0) }),
  },
  { name: 'Mod fmod=1 of floats (signs mixed)', input: [3, 4], range: [-7, 7], build: (b, x) => b.op1('onnx.Mod', [x, b.constant(Tensor.fromValues('float32', [4], [2.5, -1.5, 3, -0.75]))], { fmod: attrs.int(1) }) },
  {
    name: 'Mod fmod=1 of int32 (C remainder)',
    input: [3, 4],
    range: [-20, 20],
    build: (b, x) => b.op1('onnx.Mod', [b.op1('onnx.Cast', [x], { to: attrs.int(6) }), b.constant(Tensor.fromValues('int32', [4], [3, -4, 5, -7]))], { fmod: attrs.int(1) }),
  },
  // Einsum: products, attention, outer products, transposes, sums
  ...([
    ['ij,jk->ik', [3, 4], [4, 5]],
    ['ij,jk', [3, 4], [4, 5]],
    ['bhid,bhjd->bhij', [2, 2, 3, 4], [2, 2, 5, 4]],
    ['bhij,bhjd->bihd', [2, 2, 3, 5], [2, 2, 5, 4]],
    ['i,j->ij', [3], [4]],
    ['bij,k->bkj', [2, 3, 4], [5]],
  ] as const).map(([equation, shapeA, shapeB]): OpCase => ({
    name: `Einsum ${equation}`,
    input: [...shapeA],
    build: (b, x) => b.op1('onnx.Einsum', [x, b.constant(f32([...shapeB], 81))], { equation: attrs.string(equation) }),
  })),
  { name: 'Einsum bij->bji', input: [2, 3, 4], build: (b, x) => b.op1('onnx.Einsum', [x], { equation: attrs.string('bij->bji') }) },
  { name: 'Einsum ijk->j (sums)', input: [2, 3, 4], build: (b, x) => b.op1('onnx.Einsum', [x], { equation: attrs.string('ijk->j') }) },
  // layout-sensitive (NHWC between transposes)
  { name: 'DepthToSpace CRD (PixelShuffle)', input: [1, 8, 3, 3], build: (b, x) => b.op1('onnx.DepthToSpace', [x], { blocksize: attrs.int(2), mode: attrs.string('CRD') }) },
  { name: 'DepthToSpace DCR', input: [1, 8, 3, 3], build: (b, x) => b.op1('onnx.DepthToSpace', [x], { blocksize: attrs.int(2) }) },
  { name: 'InstanceNormalization', input: [2, 3, 5, 4], range: [-2, 3], build: (b, x) => b.op1('onnx.InstanceNormalization', [x, b.constant(f32([3], 51, 0.5, 1.5)), b.constant(f32([3], 52))], { epsilon: attrs.float(1e-3) }) },
  { name: 'InstanceNormalization 1-D (rank 3)', input: [2, 4, 6], build: (b, x) => b.op1('onnx.InstanceNormalization', [x, b.constant(f32([4], 53, 0.5, 1.5)), b.constant(f32([4], 54))]) },
  {
    name: 'GroupNormalization opset 18 (scale per group)',
    input: [2, 6, 3, 4],
    range: [-2, 3],
    opset: 18,
    build: (b, x) => b.op1('onnx.GroupNormalization', [x, b.constant(f32([3], 59, 0.5, 1.5)), b.constant(f32([3], 60))], { num_groups: attrs.int(3), epsilon: attrs.float(1e-3) }),
  },
  {
    name: 'GroupNormalization opset 21 (scale per channel) after a Conv: no transpose inside',
    input: [1, 3, 5, 5],
    opset: 21,
    build: (b, x) => {
      const conv = b.op1('onnx.Conv', [x, b.constant(f32([8, 3, 3, 3], 66, -0.5, 0.5))], { pads: attrs.ints([1, 1, 1, 1]) });
      const norm = b.op1('onnx.GroupNormalization', [conv, b.constant(f32([8], 67, 0.5, 1.5)), b.constant(f32([8], 68))], { num_groups: attrs.int(2) });
      return b.op1('onnx.Conv', [norm, b.constant(f32([2, 8, 1, 1], 69, -0.5, 0.5))]);
    },
    transposesInside: 0,
  },
  {
    name: 'Conv → InstanceNormalization → Relu → Conv leaves no transpose inside',
    input: [1, 3, 6, 6],
    build: (b, x) => {
      const conv = b.op1('onnx.Conv', [x, b.constant(f32([4, 3, 3, 3], 55, -0.5, 0.5))], { pads: attrs.ints([1, 1, 1, 1]) });
      const norm = b.op1('onnx.InstanceNormalization', [conv, b.constant(f32([4], 56, 0.5, 1.5)), b.constant(f32([4], 57))]);
      return b.op1('onnx.Conv', [b.op1('onnx.Relu', [norm]), b.constant(f32([2, 4, 1, 1], 58, -0.5, 0.5))]);
    },
    transposesInside: 0,
  },
  {
    name: 'ConvTranspose grouped (group 2), stride 2, bias',
    input: [1, 4, 3, 3],
    build: (b, x) => b.op1('onnx.ConvTranspose', [x, b.constant(f32([4, 3, 2, 2], 74, -0.5, 0.5)), b.constant(f32([6], 75))], { group: attrs.int(2), strides: attrs.ints([2, 2]) }),
  },
  { name: 'ConvTranspose depthwise (group = C), no bias', input: [1, 3, 4, 4], build: (b, x) => b.op1('onnx.ConvTranspose', [x, b.constant(f32([3, 1, 3, 3], 76, -0.5, 0.5))], { group: attrs.int(3) }) },
  // 1-D windows as 2-D ones with a unit height
  { name: 'Conv 1-D stride 2, pads, bias', input: [2, 3, 11], build: (b, x) => b.op1('onnx.Conv', [x, b.constant(f32([4, 3, 3], 61, -0.5, 0.5)), b.constant(f32([4], 62))], { strides: attrs.ints([2]), pads: attrs.ints([1, 2]) }) },
  { name: 'Conv 1-D depthwise, dilation 2', input: [1, 4, 12], build: (b, x) => b.op1('onnx.Conv', [x, b.constant(f32([4, 1, 3], 63, -0.5, 0.5))], { group: attrs.int(4), dilations: attrs.ints([2]) }) },
  {
    // The input's NCL → NLC transpose is hoisted above the 1-D lowering's Unsqueeze to the input (at the edge); none between the ops.
    name: 'Conv 1-D → Relu → MaxPool 1-D → Conv 1-D keeps only the input transpose',
    input: [1, 3, 16],
    build: (b, x) => {
      const conv = b.op1('onnx.Conv', [x, b.constant(f32([5, 3, 3], 64, -0.5, 0.5))], { pads: attrs.ints([1, 1]) });
      const pooled = b.op1('onnx.MaxPool', [b.op1('onnx.Relu', [conv])], { kernel_shape: attrs.ints([2]), strides: attrs.ints([2]) });
      return b.op1('onnx.Conv', [pooled, b.constant(f32([2, 5, 1], 65, -0.5, 0.5))]);
    },
    transposesInside: 0,
  },
  { name: 'AveragePool 1-D pads count_include_pad', input: [2, 3, 9], build: (b, x) => b.op1('onnx.AveragePool', [x], { kernel_shape: attrs.ints([3]), pads: attrs.ints([1, 1]), count_include_pad: attrs.int(1) }) },
  // generators computed at run time
  {
    // The TFLite runtime binding reads outputs at their declared shapes: the count (⌈7/2⌉) is fixed, the values are not.
    name: 'Range from a run-time start (int32)',
    input: [],
    range: [-9, 9],
    build: (b, x) => {
      const start = b.op1('onnx.Cast', [x], { to: attrs.int(6) });
      const limit = b.op1('onnx.Add', [start, b.constant(Tensor.scalar('int32', 7))]);
      const values = b.op1('onnx.Range', [start, limit, b.constant(Tensor.scalar('int32', 2))]);
      return b.op1('onnx.Reshape', [values, b.constant(i64([4]))]);
    },
  },
  {
    name: 'ConstantOfShape of a run-time shape',
    input: ['n', 3],
    build: (b, x) => b.op1('onnx.Add', [x, b.op1('onnx.ConstantOfShape', [b.op1('onnx.Shape', [x])], { value: attrs.tensor(Tensor.fromValues('float32', [1], [2.5])) })]),
  },
];

const buildCase = (testCase: OpCase): Model => singleInputModel(testCase);

describe('legalize-tflite, more ops: TFLite runtime within 1e-4 of ONNX Runtime', () => {
  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const original = buildCase(testCase);
      const converted = buildCase(testCase);
      await legalize(converted, 'optimize=false');
      const foreign = converted.graph.nodeList().filter((node) => !node.op.startsWith('tflite.'));
      expect(foreign.map((node) => node.op)).toEqual([]);
      const differences = await compareInRuntimes(original, converted, feedsFor(original, 7, testCase.range ?? [-1, 1]));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
      if (testCase.transposesInside !== undefined) expect(countTransposes(converted.graph).inner).toBe(testCase.transposesInside);
    });
  }
});
