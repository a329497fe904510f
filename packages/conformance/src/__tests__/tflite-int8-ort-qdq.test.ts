/**
 * Clip, LeakyRelu, Split, Gather (an int8 embedding table and activations) and Pad edge/constant in a model
 * quantized the way ONNX Runtime's quantizer writes QDQ (issue 12): QuantizeLinear → DequantizeLinear after
 * every activation (uint8, its own parameters per tensor, so Split outputs differ from their input), weights
 * and tables as DequantizeLinear of constants, Clip/Pad bounds left float, torch's relu6 export (Relu then
 * Clip). The .tflite must be full-integer (no float op between the input QUANTIZE and the output
 * DEQUANTIZEs) and each output within one quantization step of ONNX Runtime on the QDQ model.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type AttributeValue, type Model, type TensorType, type Value } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { inferShapes } from '@modelpass/ops';
import { PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { encodeTflite } from '@modelpass/tflite';
import { seededUniform, stepsApart } from './int8-agreement.js';

afterAll(async () => {
  await disposeSharedOrtRunner();
});

type Params = { scale: number; zeroPoint: number };
const p = (range: number, zeroPoint: number): Params => ({ scale: Math.fround(range / 255), zeroPoint });
const f32 = (v: number) => Tensor.scalar('float32', v);
const ints = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

/** Q → DQ with the same uint8 (or int16) parameters (ORT's QDQ pair after an activation). */
function qdq(b: GraphBuilder, value: Value, params: Params, name: string, dtype: 'uint8' | 'int16' = 'uint8'): Value {
  const s = b.constant(f32(params.scale));
  const z = b.constant(Tensor.scalar(dtype, params.zeroPoint));
  return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, z], {}, { name: `${name}_q` }), s, z], {}, { name: `${name}_dq` });
}

/** A uint8 constant behind a DequantizeLinear (ORT quantizes a Gather's initializer data this way). */
function uint8Table(b: GraphBuilder, shape: number[], params: Params): Value {
  const count = shape.reduce((n, d) => n * d, 1);
  const q = Tensor.fromValues('uint8', shape, Array.from({ length: count }, (_, i) => (i * 89 + 7) % 256));
  return b.op1('onnx.DequantizeLinear', [b.constant(q), b.constant(f32(params.scale)), b.constant(Tensor.scalar('uint8', params.zeroPoint))], {}, { name: 'table_dq' });
}

async function convert(model: Model): Promise<{ converted: Model; floatOps: number }> {
  const converted = decodeOnnx(encodeOnnx(model));
  const instrumentation = new StatisticsInstrumentation();
  await new PassManager({ environment: builtinEnvironment(), instrumentations: [instrumentation] }).run(converted, 'legalize-tflite');
  return { converted, floatOps: new Map(instrumentation.get('legalize-tflite') ?? []).get('float-ops-in-int8-model') ?? -1 };
}

const dtypeOf = (value: Value | null | undefined) => (value?.type as TensorType | undefined)?.dtype;
/** The builtin and the dtype of the operand that carries its data (SPLIT's is its second). */
const opsOf = (model: Model) => model.graph.nodeList().map((node) => `${node.op.slice(7)}(${dtypeOf(node.inputs[node.op === 'tflite.SPLIT' ? 1 : 0])})`);

interface Watched { readonly name: string; readonly params: Params }

/** Converts, checks it is full-integer with `builtins` on int8, and compares every watched output with ORT. */
async function expectFullIntegerAgreement(model: Model, watched: readonly Watched[], builtins: readonly string[], feeds: readonly Record<string, Tensor>[], dtype: 'int8' | 'int16' = 'int8') {
  const { converted, floatOps } = await convert(model);
  const ops = opsOf(converted);
  expect(floatOps, ops.join(' ')).toBe(0);
  expect(ops.filter((op) => op === `DEQUANTIZE(${dtype})`), ops.join(' ')).toHaveLength(watched.length);
  expect(ops.filter((op) => op.startsWith('QUANTIZE(float32')), ops.join(' ')).toHaveLength(1);
  for (const builtin of builtins) expect(ops, `${builtin}(${dtype}) in ${ops.join(' ')}`).toContain(`${builtin}(${dtype})`);
  for (const feed of feeds) {
    const expected = await runOrt(model, feed);
    const actual = await new TfliteEngine().run(encodeTflite(converted), feed);
    for (const { name, params } of watched) {
      const [a, b] = [expected.get(name)!, actual.get(name)!];
      expect(b.shape, name).toEqual(a.shape);
      expect(stepsApart(a.toNumbers(), b.toNumbers(), params.scale), name).toBeLessThanOrEqual(1.001);
      expect(new Set(b.toNumbers()).size, name).toBeGreaterThan(4); // not a constant: the op saw its input
    }
  }
  return ops;
}

const X_SHAPE = [1, 4, 6, 6];
const IN = { scale: Math.fround(8 / 255), zeroPoint: 128 };
const xFeed = (seed: number) => seededUniform(X_SHAPE, seed, -4.2, 8.4);

describe('an ORT-style QDQ block (Q/DQ around every op) becomes full-integer TFLite', () => {
  it('Split (per-output scales) → relu6 as Relu+Clip, LeakyRelu → Pad constant/edge → Concat; embedding Gather → LeakyRelu → Clip', async () => {
    const b = new GraphBuilder();
    const x = qdq(b, b.input('x', tensorType('float32', X_SHAPE)), IN, 'x');
    const ids = b.input('ids', tensorType('int64', [2, 3]));
    const [left, right] = b.op('onnx.Split', [x, b.constant(ints([1, 3]))], { axis: attrs.int(1) }, { outputs: 2, name: 'split' });
    const a = qdq(b, left!, p(7, 110), 'split_0');
    const c = qdq(b, right!, p(8.2, 131), 'split_1');
    const relu = qdq(b, b.op1('onnx.Relu', [a], {}, { name: 'relu' }), p(4, 0), 'relu');
    const relu6 = qdq(b, b.op1('onnx.Clip', [relu, b.constant(f32(0)), b.constant(f32(6))], {}, { name: 'clip6' }), p(4, 0), 'clip6');
    const padded = qdq(b, b.op1('onnx.Pad', [relu6, b.constant(ints([0, 0, 1, 2, 0, 0, 2, 1])), b.constant(f32(0.5))], {}, { name: 'pad_constant' }), p(4, 0), 'pad_constant');
    const leaky = qdq(b, b.op1('onnx.LeakyRelu', [c], { alpha: attrs.float(0.1) }, { name: 'leaky' }), p(4.6, 30), 'leaky');
    const edge = qdq(b, b.op1('onnx.Pad', [leaky, b.constant(ints([0, 0, 1, 2, 0, 0, 2, 1]))], { mode: attrs.string('edge') }, { name: 'pad_edge' }), p(4.6, 30), 'pad_edge');
    const y = qdq(b, b.op1('onnx.Concat', [padded, edge], { axis: attrs.int(1) }, { name: 'concat' }), p(5, 60), 'y');
    const tableParams = p(5.1, 100);
    const rows = qdq(b, b.op1('onnx.Gather', [uint8Table(b, [10, 5], tableParams), ids], { axis: attrs.int(0) }, { name: 'embedding' }), tableParams, 'embedding');
    const leakyRows = qdq(b, b.op1('onnx.LeakyRelu', [rows], { alpha: attrs.float(0.3) }, { name: 'leaky_rows' }), p(3.3, 70), 'leaky_rows');
    // The clamp's output scale is not finer than its input's: a one-step difference LEAKY_RELU may leave stays one step
    // (into 2.3/255 it would be 1.43 steps, rounded to two — accumulated rounding, not the clamp's; the clamp alone is
    // checked below at a finer output scale).
    const clipped = qdq(b, b.op1('onnx.Clip', [leakyRows, b.constant(f32(-0.5)), b.constant(f32(1.7))], {}, { name: 'clip_rows' }), p(3.4, 80), 'e');
    b.output(y);
    b.output(clipped);
    const model = b.model({ onnx: 17 });
    inferShapes(model, { mode: 'refresh' });

    const idsFeed = (values: number[]) => Tensor.fromValues('int64', [2, 3], values.map((v) => BigInt(v)));
    const ops = await expectFullIntegerAgreement(
      model,
      [{ name: y.name, params: p(5, 60) }, { name: clipped.name, params: p(3.4, 80) }],
      ['SPLIT_V', 'RELU6', 'PADV2', 'LEAKY_RELU', 'CONCATENATION', 'MAXIMUM', 'MINIMUM'],
      [{ x: xFeed(12345), ids: idsFeed([0, 3, -1, 9, 2, 2]) }, { x: xFeed(777), ids: idsFeed([5, -10, 7, 1, 8, 4]) }],
    );
    // Both GATHERs (the embedding's constant int8 table, and the edge Pad's rows/columns) read int8.
    expect(ops.filter((op) => op === 'GATHER(int8)'), ops.join(' ')).toHaveLength(3);
  }, 60_000);
});

interface OpCase {
  readonly name: string;
  readonly opset: number;
  readonly body: (b: GraphBuilder, x: Value) => Value[];
  readonly out: readonly Params[];
  readonly builtins: readonly string[];
}

function op(name: string, inputs: (Tensor | undefined)[], attributes: Record<string, AttributeValue>, outputs = 1) {
  return (b: GraphBuilder, x: Value) => b.op(name, [x, ...inputs.map((t) => (t ? b.constant(t) : null))], attributes, { outputs, name: 'op' });
}

const CASES: readonly OpCase[] = [
  { name: 'Split (opset 11, split attribute) → SPLIT_V', opset: 11, body: op('onnx.Split', [], { axis: attrs.int(2), split: attrs.ints([4, 2]) }, 2), out: [p(6, 120), p(9, 140)], builtins: ['SPLIT_V'] },
  { name: 'Split (opset 18, num_outputs 3) → SPLIT', opset: 18, body: op('onnx.Split', [], { axis: attrs.int(3), num_outputs: attrs.int(3) }, 3), out: [p(8, 128), p(5, 100), p(8, 128)], builtins: ['SPLIT'] },
  { name: 'Split (opset 13, no sizes: equal halves) → SPLIT', opset: 13, body: op('onnx.Split', [], { axis: attrs.int(1) }, 2), out: [p(7.5, 128), p(8, 128)], builtins: ['SPLIT'] },
  { name: 'Gather (int32 indices, axis 2, rank-2 indices) → GATHER', opset: 17, body: op('onnx.Gather', [Tensor.fromValues('int32', [2, 2], [5, 0, -2, 1])], { axis: attrs.int(2) }), out: [p(8.3, 127)], builtins: ['GATHER'] },
  { name: 'LeakyRelu α = 1.5 (negative side steeper) → LEAKY_RELU', opset: 17, body: op('onnx.LeakyRelu', [], { alpha: attrs.float(1.5) }), out: [p(10.5, 155)], builtins: ['LEAKY_RELU'] },
  { name: 'Clip (opset 10, min/max attributes) [0, 6] → RELU6', opset: 10, body: op('onnx.Clip', [], { min: attrs.float(0), max: attrs.float(6) }), out: [p(6, 0)], builtins: ['RELU6'] },
  { name: 'Clip (opset 10) [−0.3, 2.5] → MAXIMUM, MINIMUM', opset: 10, body: op('onnx.Clip', [], { min: attrs.float(-0.3), max: attrs.float(2.5) }), out: [p(2.9, 27)], builtins: ['MAXIMUM', 'MINIMUM'] },
  {
    // ORT's quantizer quantizes a Pad's constant_value with the input's parameters (a DequantizeLinear of a uint8 scalar).
    name: 'Pad constant, value a DequantizeLinear of uint8 → PADV2',
    opset: 17,
    body: (b, x) => {
      const value = b.op1('onnx.DequantizeLinear', [b.constant(Tensor.scalar('uint8', 150)), b.constant(f32(IN.scale)), b.constant(Tensor.scalar('uint8', IN.zeroPoint))], {}, { name: 'pad_value_dq' });
      return [b.op1('onnx.Pad', [x, b.constant(ints([0, 0, 1, 2, 0, 0, 2, 1])), value], {}, { name: 'op' })];
    },
    out: [p(8, 128)],
    builtins: ['PADV2'],
  },
  { name: 'Pad wrap (opset 19), requantized output', opset: 19, body: op('onnx.Pad', [ints([0, 0, 2, 3, 0, 0, 1, 1])], { mode: attrs.string('wrap') }), out: [p(6.6, 118)], builtins: ['GATHER'] },
];

describe('int8 Split/Gather/LeakyRelu/Clip/Pad in other opsets and forms, within one step of ORT', () => {
  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const b = new GraphBuilder();
      const x = qdq(b, b.input('x', tensorType('float32', X_SHAPE)), IN, 'x');
      const watched = testCase.body(b, x).map((value, i) => {
        const out = qdq(b, value, testCase.out[i]!, `y${i}`);
        b.output(out);
        return { name: out.name, params: testCase.out[i]! };
      });
      const model = b.model({ onnx: testCase.opset });
      inferShapes(model, { mode: 'refresh' });
      await expectFullIntegerAgreement(model, watched, testCase.builtins, [{ x: xFeed(12345) }, { x: xFeed(777) }]);
    }, 60_000);
  }
});

describe('int8 Clip into other output parameters: clamped elements exactly at ORT\'s integers', () => {
  // Input 8/255 (zero point 128), output 2.3/255 (zero point 55). min −0.3 on the input's grid is −10·(8/255) =
  // −0.314, which requantizes to the output's −35 (integer 20); ORT quantizes −0.3 itself: −33 (integer 22), two
  // steps apart. Requantizing first and clamping by bounds on the output's grid gives ORT's integer at every
  // clamped element.
  for (const [label, low, high] of [['[−0.3, 1.7]', -0.3, 1.7], ['min −0.3 only', -0.3, undefined], ['max 0.33 only', undefined, 0.33]] as const) {
    it(label, async () => {
      const out = p(2.3, 55);
      const b = new GraphBuilder();
      const x = qdq(b, b.input('x', tensorType('float32', X_SHAPE)), IN, 'x');
      const bounds = [low === undefined ? null : b.constant(f32(low)), high === undefined ? null : b.constant(f32(high))];
      const y = qdq(b, b.op1('onnx.Clip', [x, ...bounds], {}, { name: 'clip' }), out, 'y');
      b.output(y);
      const model = b.model({ onnx: 17 });
      inferShapes(model, { mode: 'refresh' });
      const ops = await expectFullIntegerAgreement(model, [{ name: y.name, params: out }], [low === undefined ? 'MINIMUM' : 'MAXIMUM'], [{ x: xFeed(12345) }]);
      const { converted } = await convert(model);
      for (const seed of [12345, 777, 4242]) {
        const feed = { x: xFeed(seed) };
        const expected = (await runOrt(model, feed)).get(y.name)!.toNumbers();
        const actual = (await new TfliteEngine().run(encodeTflite(converted), feed)).get(y.name)!.toNumbers();
        const atBound = (v: number) => (low !== undefined && v <= low + out.scale / 2) || (high !== undefined && v >= high - out.scale / 2);
        const clamped = expected.flatMap((v, i) => (atBound(v) ? [i] : []));
        expect(clamped.length).toBeGreaterThan(10);
        expect(clamped.filter((i) => actual[i] !== expected[i]).map((i) => `${i}: ORT ${expected[i]} TFLite ${actual[i]}`)).toEqual([]);
      }
      // The requantizing QUANTIZE runs before the clamp (on the input), not after it.
      expect(ops.indexOf('QUANTIZE(int8)'), ops.join(' ')).toBeLessThan(ops.findIndex((op) => op.startsWith('MAXIMUM') || op.startsWith('MINIMUM')));
    }, 60_000);
  }
});

describe('an int8 value the model returns and goes on from', () => {
  it('LeakyRelu → Q/DQ → graph output and → Clip → Q/DQ → graph output: the Clip reads the integers (no float island)', async () => {
    const b = new GraphBuilder();
    const x = qdq(b, b.input('x', tensorType('float32', X_SHAPE)), IN, 'x');
    const features = qdq(b, b.op1('onnx.LeakyRelu', [x], { alpha: attrs.float(0.2) }, { name: 'leaky' }), p(5, 40), 'features');
    const clipped = qdq(b, b.op1('onnx.Clip', [features, b.constant(f32(-0.3)), b.constant(f32(2.2))], {}, { name: 'clip' }), p(5, 40), 'clipped');
    b.output(features);
    b.output(clipped);
    const model = b.model({ onnx: 17 });
    inferShapes(model, { mode: 'refresh' });
    const ops = await expectFullIntegerAgreement(model, [{ name: features.name, params: p(5, 40) }, { name: clipped.name, params: p(5, 40) }], ['LEAKY_RELU', 'MAXIMUM', 'MINIMUM'], [{ x: xFeed(12345) }, { x: xFeed(777) }]);
    expect(ops.filter((op) => op.includes('float32')), ops.join(' ')).toEqual(['QUANTIZE(float32)']);
  }, 60_000);
});

describe('16x8 (int16 activations, opset 21): Split, Clip into another scale, LeakyRelu, Pad edge/wrap, Gather of an int16 table', () => {
  const s16 = (range: number): Params => ({ scale: Math.fround(range / 32767), zeroPoint: 0 });
  it('Split → Clip [−0.3, 2.2] (requantized) / LeakyRelu → Pad edge / wrap → Concat; embedding Gather → LeakyRelu', async () => {
    const b = new GraphBuilder();
    const x = qdq(b, b.input('x', tensorType('float32', X_SHAPE)), s16(4.2), 'x', 'int16');
    const ids = b.input('ids', tensorType('int64', [2, 3]));
    const [left, right] = b.op('onnx.Split', [x, b.constant(ints([1, 3]))], { axis: attrs.int(1) }, { outputs: 2, name: 'split' });
    const a = qdq(b, left!, s16(4.5), 'split_0', 'int16');
    const c = qdq(b, right!, s16(4.2), 'split_1', 'int16');
    const clip = qdq(b, b.op1('onnx.Clip', [a, b.constant(f32(-0.3)), b.constant(f32(2.2))], {}, { name: 'clip' }), s16(2.3), 'clip', 'int16');
    const wrap = qdq(b, b.op1('onnx.Pad', [clip, b.constant(ints([0, 0, 1, 2, 0, 0, 2, 1]))], { mode: attrs.string('wrap') }, { name: 'pad_wrap' }), s16(2.3), 'pad_wrap', 'int16');
    const leaky = qdq(b, b.op1('onnx.LeakyRelu', [c], { alpha: attrs.float(0.1) }, { name: 'leaky' }), s16(4.2), 'leaky', 'int16');
    const edge = qdq(b, b.op1('onnx.Pad', [leaky, b.constant(ints([0, 0, 1, 2, 0, 0, 2, 1]))], { mode: attrs.string('edge') }, { name: 'pad_edge' }), s16(4.2), 'pad_edge', 'int16');
    const y = qdq(b, b.op1('onnx.Concat', [wrap, edge], { axis: attrs.int(1) }, { name: 'concat' }), s16(4.2), 'y', 'int16');
    const table = b.op1('onnx.DequantizeLinear', [
      b.constant(Tensor.fromValues('int16', [10, 5], Array.from({ length: 50 }, (_, i) => ((i * 7919) % 65535) - 32767))),
      b.constant(f32(s16(3).scale)),
      b.constant(Tensor.scalar('int16', 0)),
    ], {}, { name: 'table_dq' });
    const rows = qdq(b, b.op1('onnx.Gather', [table, ids], { axis: attrs.int(0) }, { name: 'embedding' }), s16(3), 'embedding', 'int16');
    const e = qdq(b, b.op1('onnx.LeakyRelu', [rows], { alpha: attrs.float(0.3) }, { name: 'leaky_rows' }), s16(3), 'e', 'int16');
    b.output(y);
    b.output(e);
    const model = b.model({ onnx: 21 });
    inferShapes(model, { mode: 'refresh' });
    const idsFeed = (values: number[]) => Tensor.fromValues('int64', [2, 3], values.map((v) => BigInt(v)));
    const ops = await expectFullIntegerAgreement(
      model,
      [{ name: y.name, params: s16(4.2) }, { name: e.name, params: s16(3) }],
      ['SPLIT_V', 'MAXIMUM', 'MINIMUM', 'LEAKY_RELU', 'CONCATENATION'],
      [{ x: xFeed(12345), ids: idsFeed([0, 3, -1, 9, 2, 2]) }, { x: xFeed(777), ids: idsFeed([5, -10, 7, 1, 8, 4]) }],
      'int16',
    );
    expect(ops.filter((op) => op === 'GATHER(int16)'), ops.join(' ')).toHaveLength(5);
  }, 60_000);
});
