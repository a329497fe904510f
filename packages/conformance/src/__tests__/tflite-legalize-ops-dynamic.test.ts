/**
 * legalize-tflite on ops whose output length depends on the data (NonZero, Compress with a run-time
 * condition, Unique, NonMaxSuppression) and the easy gaps of issue 12: the TFLite runtime (TFLite 2.9)
 * must give ONNX Runtime's outputs (shapes included: each case runs on several inputs whose output
 * lengths differ), every node of the result must be a tflite op, and what cannot map is refused by node.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType, type DType, type Model, type Value } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { inferShapes, runReference } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { REPO_ROOT } from '@modelpass/conformance';
import { compareInRuntimes, feedsFor, legalize, maxAbsDifference, seededTensor, singleInputModel, type SingleInputCase } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

const engine = new TfliteEngine();
afterAll(() => engine.dispose());

const i64 = (values: number[], shape = [values.length]): Tensor => Tensor.fromValues('int64', shape, values.map((v) => BigInt(v)));
const f32 = (values: number[], shape = [values.length]): Tensor => Tensor.fromValues('float32', shape, values);

interface Input {
  readonly name: string;
  readonly shape: readonly (number | string)[];
  readonly dtype?: DType;
}

interface DynamicCase {
  readonly name: string;
  readonly inputs: readonly Input[];
  readonly opset?: number;
  readonly build: (b: GraphBuilder, ...inputs: Value[]) => Value | Value[];
  /** Feeds to run (each a list of tensors in input order): output lengths differ between them. */
  readonly feeds: readonly (readonly Tensor[])[];
  readonly uses?: readonly string[];
}

function buildModel(testCase: DynamicCase): Model {
  const b = new GraphBuilder();
  const inputs = testCase.inputs.map((input) => b.input(input.name, tensorType(input.dtype ?? 'float32', [...input.shape])));
  const outputs = testCase.build(b, ...inputs);
  b.output(...(Array.isArray(outputs) ? outputs : [outputs]));
  const model = b.model({ onnx: testCase.opset ?? 13 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

/** Rounded seeded values in [lo, hi]: repeated values for Unique, zeros for NonZero. */
function roundedTensor(shape: number[], seed: number, lo: number, hi: number): Tensor {
  const values = seededTensor(shape, seed, lo, hi + 1).toNumbers().map((v) => Math.floor(v));
  return Tensor.fromValues('float32', shape, values);
}

/** Boxes in [0, 4)² of sides in [0.5, 2.5): overlapping ones (corners with y1 > y2 for some, which both runtimes order). */
function boxesTensor(batches: number, count: number, seed: number, centers: boolean): Tensor {
  const corner = seededTensor([batches, count, 2], seed, 0, 4).toNumbers();
  const side = seededTensor([batches, count, 2], seed + 100, 0.5, 2.5).toNumbers();
  const values: number[] = [];
  for (let i = 0; i < batches * count; i++) {
    const [y, x, h, w] = [corner[2 * i]!, corner[2 * i + 1]!, side[2 * i]!, side[2 * i + 1]!];
    if (centers) values.push(x, y, w, h);
    else if (i % 3 === 2) values.push(y + h, x, y, x + w);
    else values.push(y, x, y + h, x + w);
  }
  return Tensor.fromValues('float32', [batches, count, 4], values);
}

async function expectSameOutputs(original: Model, converted: Model, feeds: readonly Tensor[]): Promise<number[]> {
  const named: Record<string, Tensor> = {};
  original.graph.inputs.forEach((input, index) => (named[input.name] = feeds[index]!));
  const expected = await runOrt(original, named);
  const actual = await engine.run(converted, named);
  return original.graph.outputs.map((output, index) => {
    const want = expected.get(output.name)!;
    const got = actual.get(converted.graph.outputs[index]!.name)!;
    expect(got.shape, `output ${output.name} shape`).toEqual(want.shape);
    expect(got.dtype, `output ${output.name} dtype`).toBe(want.dtype);
    expect(got.toNumbers(), `output ${output.name}`).toEqual(want.toNumbers());
    return want.shape.reduce((n, d) => n * d, 1);
  });
}

const CASES: DynamicCase[] = [
  {
    name: 'NonZero of a float tensor (rank 2)',
    inputs: [{ name: 'x', shape: [3, 4] }],
    build: (b, x) => b.op1('onnx.NonZero', [b.op1('onnx.Relu', [x])]),
    feeds: [[seededTensor([3, 4], 1)], [seededTensor([3, 4], 2)], [f32(new Array(12).fill(-1), [3, 4])], [f32(new Array(12).fill(2), [3, 4])]],
    uses: ['WHERE', 'TRANSPOSE'],
  },
  {
    name: 'NonZero of a bool tensor (rank 3) read by a Cast',
    inputs: [{ name: 'x', shape: [2, 3, 2] }],
    build: (b, x) => b.op1('onnx.Cast', [b.op1('onnx.NonZero', [b.op1('onnx.Greater', [x, b.constant(Tensor.scalar('float32', 0.3))])])], { to: attrs.int(1) }),
    feeds: [[seededTensor([2, 3, 2], 3)], [seededTensor([2, 3, 2], 4)]],
  },
  {
    name: 'NonZero of an int64 tensor',
    inputs: [{ name: 'x', shape: [6] }],
    build: (b, x) => b.op1('onnx.NonZero', [b.op1('onnx.Cast', [x], { to: attrs.int(7) })]),
    feeds: [[roundedTensor([6], 5, -1, 1)], [roundedTensor([6], 6, 0, 3)], [f32([0, 0, 0, 0, 0, 1])]],
  },
  {
    name: 'Compress axis 0 by a run-time condition',
    inputs: [{ name: 'x', shape: [5, 3] }],
    build: (b, x) => b.op1('onnx.Compress', [x, b.op1('onnx.Greater', [b.op1('onnx.ReduceSum', [x, b.constant(i64([1]))], { keepdims: attrs.int(0) }), b.constant(Tensor.scalar('float32', 0))])], { axis: attrs.int(0) }),
    feeds: [[seededTensor([5, 3], 7)], [seededTensor([5, 3], 8)], [seededTensor([5, 3], 9, 0, 1)]],
    uses: ['WHERE', 'GATHER'],
  },
  {
    name: 'Compress axis -1 by a shorter run-time condition (second input)',
    inputs: [
      { name: 'x', shape: [2, 6] },
      { name: 'c', shape: [4] },
    ],
    build: (b, x, c) => b.op1('onnx.Compress', [x, b.op1('onnx.Less', [c!, b.constant(Tensor.scalar('float32', 0))])], { axis: attrs.int(-1) }),
    feeds: [
      [seededTensor([2, 6], 10), seededTensor([4], 11)],
      [seededTensor([2, 6], 12), seededTensor([4], 13)],
    ],
  },
  {
    name: 'Compress without axis (flattened) then Relu',
    inputs: [{ name: 'x', shape: [2, 3] }],
    build: (b, x) => b.op1('onnx.Relu', [b.op1('onnx.Compress', [x, b.op1('onnx.Greater', [b.op1('onnx.Reshape', [x, b.constant(i64([6]))]), b.constant(Tensor.scalar('float32', -0.2))])])]),
    feeds: [[seededTensor([2, 3], 14)], [seededTensor([2, 3], 15)]],
  },
  {
    name: 'Unique sorted=1, all four outputs',
    inputs: [{ name: 'x', shape: [10] }],
    opset: 11,
    build: (b, x) => b.op('onnx.Unique', [x], {}, { outputs: 4 }),
    feeds: [[roundedTensor([10], 16, -3, 3)], [roundedTensor([10], 17, 0, 1)], [roundedTensor([10], 18, -9, 9)]],
    uses: ['UNIQUE', 'TOPK_V2'],
  },
  {
    name: 'Unique sorted=0 of a 2-D tensor (flattened), all four outputs',
    inputs: [{ name: 'x', shape: [3, 4] }],
    opset: 11,
    build: (b, x) => b.op('onnx.Unique', [x], { sorted: attrs.int(0) }, { outputs: 4 }),
    feeds: [[roundedTensor([3, 4], 19, -2, 2)], [roundedTensor([3, 4], 20, -5, 5)]],
  },
  {
    name: 'Unique of int64, axis 0 of a 1-D tensor, values and inverse indices',
    inputs: [{ name: 'x', shape: [8] }],
    opset: 11,
    build: (b, x) => {
      const [y, , inverse] = b.op('onnx.Unique', [b.op1('onnx.Cast', [x], { to: attrs.int(7) })], { axis: attrs.int(0) }, { outputs: 4 });
      return [y!, inverse!];
    },
    feeds: [[roundedTensor([8], 21, -2, 2)], [roundedTensor([8], 22, 5, 6)]],
  },
  {
    name: 'Unique sorted=0, values only',
    inputs: [{ name: 'x', shape: [7] }],
    opset: 11,
    build: (b, x) => b.op('onnx.Unique', [x], { sorted: attrs.int(0) }, { outputs: 1 })[0]!,
    feeds: [[roundedTensor([7], 23, -2, 2)]],
  },
  ...([
    ['corners, score_threshold 0.3, iou 0.5', 0, [1, 6], 3, 0.5, 0.3],
    ['centers (center_point_box=1), no score_threshold, iou 0.3', 1, [1, 6], 6, 0.3, undefined],
    ['2 batches × 3 classes, max 2 per class, iou 0.6, score_threshold 0.5', 0, [2, 3], 2, 0.6, 0.5],
  ] as const).map(([what, centerPointBox, [batches, classes], most, iou, scoreThreshold]): DynamicCase => ({
    name: `NonMaxSuppression ${what}`,
    inputs: [
      { name: 'boxes', shape: [batches, 8, 4] },
      { name: 'scores', shape: [batches, classes, 8] },
    ],
    opset: 11,
    build: (b, boxes, scores) =>
      b.op1('onnx.NonMaxSuppression', [boxes!, scores!, b.constant(i64([most])), b.constant(f32([iou])), ...(scoreThreshold === undefined ? [] : [b.constant(f32([scoreThreshold]))])], {
        center_point_box: attrs.int(centerPointBox),
      }),
    feeds: [1, 2, 3].map((seed) => [boxesTensor(batches, 8, seed, centerPointBox === 1), seededTensor([batches, classes, 8], 40 + seed, 0, 1)]),
    uses: ['NON_MAX_SUPPRESSION_V4', 'SLICE'],
  })),
  {
    // torchvision.ops.nms as torch.onnx exports it, then boxes[keep]: the selection's box column feeds a Gather (QA s12: refused, 'Gather needs the data rank').
    name: 'NonMaxSuppression → box column (Gather axis 1, Squeeze) → Gather of the kept boxes',
    inputs: [
      { name: 'boxes', shape: [8, 4] },
      { name: 'scores', shape: [8] },
    ],
    opset: 13,
    build: (b, boxes, scores) => {
      const batched = b.op1('onnx.Unsqueeze', [boxes!, b.constant(i64([0]))]);
      const classScores = b.op1('onnx.Unsqueeze', [scores!, b.constant(i64([0, 1]))]);
      const selected = b.op1('onnx.NonMaxSuppression', [batched, classScores, b.constant(i64([100])), b.constant(f32([0.5]))]);
      const keep = b.op1('onnx.Squeeze', [b.op1('onnx.Gather', [selected, b.constant(i64([2]))], { axis: attrs.int(1) }), b.constant(i64([1]))]);
      return [b.op1('onnx.Gather', [boxes!, keep], { axis: attrs.int(0) }), keep];
    },
    feeds: [
      [boxesTensor(1, 8, 1, false).reshape([8, 4]), seededTensor([8], 51, 0, 1)],
      // Eight copies of one box: one is kept.
      [f32(new Array<number[]>(8).fill([0, 0, 2, 2]).flat(), [8, 4]), seededTensor([8], 52, 0, 1)],
    ],
    uses: ['NON_MAX_SUPPRESSION_V4', 'GATHER'],
  },
  {
    name: 'NonMaxSuppression with run-time max_output_boxes_per_class, iou and score thresholds (graph inputs, as ONNX conformance data)',
    inputs: [
      { name: 'boxes', shape: [1, 8, 4] },
      { name: 'scores', shape: [1, 2, 8] },
      { name: 'most', shape: [1], dtype: 'int64' },
      { name: 'iou', shape: [1] },
      { name: 'threshold', shape: [1] },
    ],
    opset: 11,
    build: (b, boxes, scores, most, iou, threshold) => b.op1('onnx.NonMaxSuppression', [boxes!, scores!, most!, iou!, threshold!]),
    feeds: [
      [boxesTensor(1, 8, 4, false), seededTensor([1, 2, 8], 44, 0, 1), i64([2]), f32([0.5]), f32([0.2])],
      [boxesTensor(1, 8, 5, false), seededTensor([1, 2, 8], 45, 0, 1), i64([100]), f32([0.3]), f32([0])],
      [boxesTensor(1, 8, 6, false), seededTensor([1, 2, 8], 46, 0, 1), i64([0]), f32([0.5]), f32([0.2])],
    ],
    uses: ['NON_MAX_SUPPRESSION_V4', 'MINIMUM'],
  },
];

describe('legalize-tflite, data-dependent output lengths: TFLite runtime gives ONNX Runtime outputs', () => {
  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const original = buildModel(testCase);
      const converted = buildModel(testCase);
      await legalize(converted, 'optimize=false');
      const ops = converted.graph.nodeList().map((node) => node.op);
      expect(ops.filter((op) => !op.startsWith('tflite.'))).toEqual([]);
      for (const builtin of testCase.uses ?? []) expect(ops).toContain(`tflite.${builtin}`);
      const lengths = new Set<string>();
      for (const feeds of testCase.feeds) lengths.add((await expectSameOutputs(original, converted, feeds)).join());
      // The inputs give outputs of different lengths (else the case would not test a data-dependent length).
      if (testCase.feeds.length > 1) expect(lengths.size).toBeGreaterThan(1);
    });
  }
});

interface RefusalCase {
  readonly name: string;
  readonly inputs: readonly Input[];
  readonly opset?: number;
  readonly build: (b: GraphBuilder, ...inputs: Value[]) => Value | Value[];
  /** The op of the node the refusal names. */
  readonly refused: string;
  readonly reason: RegExp;
}

const REFUSALS: RefusalCase[] = [
  {
    name: 'NonMaxSuppression with a float max_output_boxes_per_class',
    inputs: [
      { name: 'boxes', shape: [1, 4, 4] },
      { name: 'scores', shape: [1, 1, 4] },
      { name: 'most', shape: [1], dtype: 'int32' },
    ],
    opset: 11,
    build: (b, boxes, scores, most) => b.op1('onnx.NonMaxSuppression', [boxes!, scores!, most!]),
    refused: 'onnx.NonMaxSuppression',
    // The op's ONNX type constraints (tensor(int64)) refuse it by node before the lowering's own check would.
    reason: /max_output_boxes_per_class\) is int32, which NonMaxSuppression-11's type tensor\(int64\) does not allow/,
  },
  {
    name: 'NonMaxSuppression without max_output_boxes_per_class (always empty)',
    inputs: [
      { name: 'boxes', shape: [1, 4, 4] },
      { name: 'scores', shape: [1, 1, 4] },
    ],
    opset: 11,
    build: (b, boxes, scores) => b.op1('onnx.NonMaxSuppression', [boxes!, scores!]),
    refused: 'onnx.NonMaxSuppression',
    reason: /the output is always empty/,
  },
  {
    name: 'Unique along axis 1 of a 2-D tensor (unique columns)',
    inputs: [{ name: 'x', shape: [3, 4] }],
    opset: 11,
    build: (b, x) => b.op('onnx.Unique', [x], { axis: attrs.int(1) }, { outputs: 4 })[0]!,
    refused: 'onnx.Unique',
    reason: /Unique along axis 1 of a rank-2 tensor \(unique slices\) is not supported/,
  },
  {
    name: 'Unique of bool',
    inputs: [{ name: 'x', shape: [6] }],
    opset: 11,
    build: (b, x) => b.op('onnx.Unique', [b.op1('onnx.Greater', [x, b.constant(Tensor.scalar('float32', 0))])], {}, { outputs: 4 })[0]!,
    refused: 'onnx.Unique',
    reason: /Unique of dtype bool is not supported/,
  },
  {
    name: 'Unique of a NonZero output (its length is not known when converting)',
    inputs: [{ name: 'x', shape: [2, 3] }],
    opset: 11,
    build: (b, x) => b.op('onnx.Unique', [b.op1('onnx.NonZero', [x])], {}, { outputs: 4 })[0]!,
    refused: 'onnx.Unique',
    reason: /the Unique input has a dim unknown when converting/,
  },
];

describe('legalize-tflite refuses data-dependent ops it cannot map, by node and reason', () => {
  for (const testCase of REFUSALS) {
    it(testCase.name, async () => {
      const model = buildModel({ ...testCase, feeds: [] });
      const refused = model.graph.nodeList().find((node) => node.op === testCase.refused)!;
      const error = await legalize(model, 'optimize=false').then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ModelpassError);
      const named = (error as ModelpassError).diagnostics.find((d) => d.location?.node === refused.name);
      expect(named, (error as Error).message).toBeDefined();
      expect(named!.reason).toMatch(testCase.reason);
      expect(model.graph.nodeList().some((node) => node.op.startsWith('tflite.'))).toBe(false);
    });
  }

  it('a graph output whose largest shape does not follow from its op is refused, naming that op', async () => {
    const model = buildModel({
      name: 'NonZero → Pad',
      inputs: [{ name: 'x', shape: [2, 3] }],
      build: (b, x) => b.op1('onnx.Pad', [b.op1('onnx.Cast', [b.op1('onnx.NonZero', [x])], { to: attrs.int(1) }), b.constant(i64([0, 1, 0, 1]))]),
      feeds: [],
    });
    const pad = model.graph.nodeList().at(-1)!;
    const error = await legalize(model, 'optimize=false').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ModelpassError);
    // Found before lowering (Pad cannot carry a bound), so nothing is lowered: named by the Pad itself.
    const named = (error as ModelpassError).diagnostics.find((d) => d.location?.node === pad.name);
    expect(named, (error as Error).message).toBeDefined();
    expect(named!.reason).toMatch(/has a data-dependent length whose largest value does not follow from its op \(onnx\.Pad\); nothing was changed/);
    expect(model.graph.nodeList().some((node) => node.op.startsWith('tflite.'))).toBe(false);
  });
});

describe('ONNX files whose initializers are also graph inputs (IR ≤ 3 style, torch keep_initializers_as_inputs=True)', () => {
  const temp = mkdtempSync(join(tmpdir(), 'modelpass-tflite-ir3-'));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));
  const path = join(temp, 'old.onnx');
  // A small CNN (Conv, BatchNorm, ReLU, MaxPool, Linear) exported by Debian's torch 1.13.
  const script = [
    'import sys, torch',
    'torch.manual_seed(0)',
    'net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 5)).eval()',
    "torch.onnx.export(net, torch.randn(1, 3, 8, 8), sys.argv[1], input_names=['x'], output_names=['y'], opset_version=11, keep_initializers_as_inputs=True)",
  ].join('\n');

  beforeAll(() => {
    execFileSync('/usr/bin/python3', ['-c', script, path], { stdio: 'ignore', timeout: 300_000 });
  }, 300_000);

  it('legalize-tflite freezes the defaulted inputs (a note and a statistic) and the TFLite model agrees with ORT', async () => {
    const original = readOnnx(path);
    const defaulted = original.graph.inputs.filter((input) => input.constant !== undefined).length;
    expect(defaulted).toBeGreaterThanOrEqual(4); // conv w/b (BatchNorm folded in by the export), linear w/b
    const converted = readOnnx(path);
    const statistics = await legalize(converted, 'optimize=false');
    expect(statistics.get('defaulted-inputs-frozen')).toBe(defaulted);
    expect(converted.graph.inputs.map((input) => input.name)).toEqual(['x']);
    expect(converted.graph.nodeList().every((node) => node.op.startsWith('tflite.'))).toBe(true);
    const x = seededTensor([1, 3, 8, 8], 31);
    const expected = (await runOrt(original, { x })).get('y')!;
    const actual = (await engine.run(converted, { x })).get(converted.graph.outputs[0]!.name)!;
    expect(maxAbsDifference(expected, actual)).toBeLessThanOrEqual(1e-4);
  });

  it('modelpass convert old.onnx -o x.tflite says how many it froze, and compare agrees', async () => {
    const cli = join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');
    const tflite = join(temp, 'old.tflite');
    const converted = spawnSync(process.execPath, [cli, 'convert', path, '-o', tflite], { encoding: 'utf8', timeout: 120_000 });
    expect(converted.status, converted.stderr).toBe(0);
    expect(converted.stderr).toMatch(/info: 4 graph input\(s\) with a default value \('5\.weight', '5\.bias', .*\) frozen into constants/);
    const compared = spawnSync(process.execPath, [cli, 'compare', path, tflite], { encoding: 'utf8', timeout: 120_000 });
    expect(compared.stdout, compared.stderr).toMatch(/verdict: agree/);
  });

  it('defaulted-inputs=input keeps them as inputs, and their convolution is refused by node', async () => {
    const model = readOnnx(path);
    const error = await legalize(model, 'optimize=false defaulted-inputs=input').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ModelpassError);
    expect((error as Error).message).toMatch(/Conv/);
  });
});

interface GapCase extends SingleInputCase {
  readonly name: string;
  readonly range?: [number, number];
  readonly uses?: readonly string[];
}

/** Operand dtypes TFLite's builtins take one at a time (issue 12's easy gaps). */
const GAPS: GapCase[] = [
  { name: 'Pow with a constant int64 exponent (negative bases)', input: [2, 4], range: [-2, 2], build: (b, x) => b.op1('onnx.Pow', [x, b.constant(i64([2, 3, 0, 1]))]), uses: ['POW'] },
  {
    name: 'Pow with a run-time int32 exponent',
    input: [3, 4],
    range: [0.5, 2],
    build: (b, x) => b.op1('onnx.Pow', [x, b.op1('onnx.Cast', [b.op1('onnx.Floor', [b.op1('onnx.Mul', [x, b.constant(Tensor.scalar('float32', 3))])])], { to: attrs.int(6) })]),
    uses: ['POW', 'CAST'],
  },
  {
    name: 'OneHot with float indices (whole numbers hot, negative ones counted from depth, fractions all off)',
    input: [2, 4],
    opset: 11,
    range: [-5.9, 5.9],
    // Half the indices rounded to whole numbers; ONNX Runtime's OneHot kernels for float indices take a float depth (or int64 values).
    build: (b, x) => {
      const whole = b.op1('onnx.Round', [x]);
      const mixed = b.op1('onnx.Concat', [whole, x], { axis: attrs.int(1) });
      return b.op1('onnx.OneHot', [mixed, b.constant(f32([5])), b.constant(f32([0, 3]))], { axis: attrs.int(1) });
    },
    uses: ['ONE_HOT', 'CAST'],
  },
  { name: 'CastLike float32 → int32', input: [2, 5], opset: 15, range: [-9, 9], build: (b, x) => b.op1('onnx.CastLike', [x, b.constant(Tensor.fromValues('int32', [1], [0]))]), uses: ['CAST'] },
  {
    name: 'CastLike int64 → float32, and to its own dtype',
    input: [4],
    opset: 15,
    range: [-9, 9],
    build: (b, x) => {
      const integers = b.op1('onnx.Cast', [x], { to: attrs.int(7) });
      return [b.op1('onnx.CastLike', [integers, x]), b.op1('onnx.Relu', [b.op1('onnx.CastLike', [x, b.constant(f32([1]))])])];
    },
  },
];

describe('legalize-tflite, mixed operand dtypes: TFLite runtime within 1e-4 of ONNX Runtime', () => {
  for (const testCase of GAPS) {
    it(testCase.name, async () => {
      const original = singleInputModel(testCase);
      const converted = singleInputModel(testCase);
      await legalize(converted, 'optimize=false');
      const ops = converted.graph.nodeList().map((node) => node.op);
      expect(ops.filter((op) => !op.startsWith('tflite.'))).toEqual([]);
      for (const builtin of testCase.uses ?? []) expect(ops).toContain(`tflite.${builtin}`);
      const differences = await compareInRuntimes(original, converted, feedsFor(original, 9, testCase.range ?? [-1, 1]));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
    });
  }
});

describe('float64 models: computed in float32 (TFLite 2.9 has no float64 kernel, not even CAST)', () => {
  const f64 = (tensor: Tensor): Tensor => Tensor.fromValues('float64', tensor.shape, tensor.toNumbers());

  it('Einsum of float64 graph inputs: the .tflite takes and gives float32, within 1e-4 (relative) of ORT in float64', async () => {
    const build = (): Model =>
      buildModel({
        name: 'float64 Einsum',
        inputs: [{ name: 'x', shape: [2, 3, 4], dtype: 'float64' }],
        build: (b, x) => b.op1('onnx.Einsum', [x, b.constant(f64(seededTensor([2, 4, 5], 61)))], { equation: attrs.string('bij,bjk->bik') }),
        opset: 12,
        feeds: [],
      });
    const original = build();
    const converted = build();
    await legalize(converted, 'optimize=false');
    expect(converted.graph.nodeList().every((node) => node.op.startsWith('tflite.'))).toBe(true);
    expect(converted.graph.inputs.map((input) => (input.type as { dtype: string }).dtype)).toEqual(['float32']);
    const x = seededTensor([2, 3, 4], 62);
    const expected = (await runOrt(original, { x: f64(x) })).get(original.graph.outputs[0]!.name)!;
    const actual = (await engine.run(converted, { x })).get(converted.graph.outputs[0]!.name)!;
    expect(actual.dtype).toBe('float32');
    expect(maxAbsDifference(expected, actual)).toBeLessThanOrEqual(1e-4);
  });

  it('a float64 island (Cast to double → Einsum → Mul → Cast to float) keeps the float32 interface', async () => {
    const testCase: GapCase = {
      name: 'float64 island',
      input: [3, 4],
      opset: 12,
      build: (b, x) => {
        const double = b.op1('onnx.Cast', [x], { to: attrs.int(11) });
        const product = b.op1('onnx.Einsum', [double, b.constant(f64(seededTensor([4, 2], 63)))], { equation: attrs.string('ij,jk->ik') });
        return b.op1('onnx.Cast', [b.op1('onnx.Mul', [product, b.constant(Tensor.fromValues('float64', [], [0.5]))])], { to: attrs.int(1) });
      },
    };
    const original = singleInputModel(testCase);
    const converted = singleInputModel(testCase);
    await legalize(converted, 'optimize=false');
    expect(converted.graph.nodeList().every((node) => node.op.startsWith('tflite.'))).toBe(true);
    for (const difference of await compareInRuntimes(original, converted, feedsFor(original, 64))) expect(difference).toBeLessThanOrEqual(1e-5);
  });
});

describe('GridSample 5-D (volumetric): reference kernel and TFLite runtime within 1e-4 of ONNX Runtime', () => {
  const variants = [
    ['linear, zeros', { mode: attrs.string('linear') }],
    ['linear, border, align_corners', { mode: attrs.string('linear'), padding_mode: attrs.string('border'), align_corners: attrs.int(1) }],
    ['linear, reflection', { mode: attrs.string('linear'), padding_mode: attrs.string('reflection') }],
    ['nearest, zeros, align_corners', { mode: attrs.string('nearest'), align_corners: attrs.int(1) }],
    ['nearest, reflection', { mode: attrs.string('nearest'), padding_mode: attrs.string('reflection') }],
    ['nearest, border', { mode: attrs.string('nearest'), padding_mode: attrs.string('border') }],
  ] as const;
  const build = (attributes: (typeof variants)[number][1]): Model =>
    buildModel({
      name: 'GridSample 5-D',
      inputs: [
        { name: 'x', shape: [2, 3, 3, 4, 5] },
        { name: 'grid', shape: [2, 2, 3, 4, 3] },
      ],
      opset: 20,
      build: (b, x, grid) => b.op1('onnx.GridSample', [x!, grid!], attributes),
      feeds: [],
    });
  // Grid points up to 1.6 out of [-1, 1]: every padding mode matters.
  const feeds = { x: seededTensor([2, 3, 3, 4, 5], 71), grid: seededTensor([2, 2, 3, 4, 3], 72, -1.6, 1.6) };

  for (const [what, attributes] of variants) {
    it(`${what}`, async () => {
      const original = build(attributes);
      const expected = (await runOrt(original, feeds)).get(original.graph.outputs[0]!.name)!;
      const reference = runReference(original, feeds).get(original.graph.outputs[0]!.name)!;
      expect(maxAbsDifference(expected, reference)).toBeLessThanOrEqual(1e-5);
      const converted = build(attributes);
      await legalize(converted, 'optimize=false');
      const ops = converted.graph.nodeList().map((node) => node.op);
      expect(ops.filter((op) => !op.startsWith('tflite.'))).toEqual([]);
      expect(ops).toContain('tflite.GATHER_ND');
      const actual = (await engine.run(converted, feeds)).get(converted.graph.outputs[0]!.name)!;
      expect(maxAbsDifference(expected, actual)).toBeLessThanOrEqual(1e-4);
    });
  }

  it('cubic on a 5-D input is refused by node (ONNX defines it for 4-D only)', async () => {
    const model = build({ mode: attrs.string('cubic') } as never);
    const error = await legalize(model, 'optimize=false').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ModelpassError);
    expect((error as Error).message).toMatch(/GridSample of a 5-D input takes mode linear or nearest/);
  });
});
