/**
 * More int8 lowerings (issue 12): Clip (RELU-family, MAXIMUM/MINIMUM, fused into the conv before it),
 * Split (SPLIT / SPLIT_V, each output requantized), Gather, LeakyRelu, Pad edge/wrap (GATHER chains; also
 * in float). Each op sits between QuantizeLinear/DequantizeLinear pairs (uint8, ONNX Runtime's QDQ layout)
 * with output parameters unlike the input's; the int8 .tflite runs in TFLite 2.9 and every output's
 * integers must be within one quantization step of ONNX Runtime's (compared through the output
 * DequantizeLinear, which has the same scale and zero point on both sides: |Δreal| ≤ 1 scale).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type AttributeValue, type Model, type TensorType, type Value } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { inferShapes } from '@modelpass/ops';
import { PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { encodeTflite } from '@modelpass/tflite';

afterAll(() => disposeSharedOrtRunner());

const SHAPE = [1, 4, 6, 6];
const IN = { scale: Math.fround(8 / 255), zeroPoint: 128 };
type Params = { scale: number; zeroPoint: number };

interface OpCase {
  readonly name: string;
  /** The op(s) on the dequantized input; returns the reals to quantize as outputs. */
  readonly body: (b: GraphBuilder, x: Value) => Value[];
  /** Each output's uint8 parameters. */
  readonly out: readonly Params[];
  /** TFLite builtins that must read int8 (and write int8) in the converted model. */
  readonly builtins: readonly string[];
  /** Builtins that must not be there (an activation fused away). */
  readonly absent?: readonly string[];
  readonly opset?: number;
}

const ints = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));
const f32 = (v: number) => Tensor.scalar('float32', v);
const p = (range: number, zeroPoint: number): Params => ({ scale: Math.fround(range / 255), zeroPoint });

function single(op: string, constants: (Tensor | undefined)[] = [], attributes: Record<string, AttributeValue> = {}) {
  return (b: GraphBuilder, x: Value) => [b.op1(op, [x, ...constants.map((t) => (t ? b.constant(t) : null))], attributes, { name: 'op' })];
}

/** x → Conv (int8 per-channel weights) → Q1(9/255, z1)/DQ → Clip(0, 6). */
function convThenClip(z1: number) {
  return (b: GraphBuilder, x: Value) => {
    const w = b.constant(Tensor.fromValues('int8', [5, 4, 3, 3], Array.from({ length: 180 }, (_, i) => ((i * 37) % 255) - 127)));
    const ws = b.constant(Tensor.fromValues('float32', [5], [0.004, 0.003, 0.005, 0.002, 0.0045]));
    const wz = b.constant(Tensor.fromValues('int8', [5], [0, 0, 0, 0, 0]));
    const weights = b.op1('onnx.DequantizeLinear', [w, ws, wz], { axis: attrs.int(0) }, { name: 'w_dq' });
    const conv = b.op1('onnx.Conv', [x, weights], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv' });
    const s1 = b.constant(f32(Math.fround(9 / 255)));
    const zero = b.constant(Tensor.scalar('uint8', z1));
    const reals = b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [conv, s1, zero], {}, { name: 'conv_q' }), s1, zero], {}, { name: 'conv_dq' });
    return [b.op1('onnx.Clip', [reals, b.constant(f32(0)), b.constant(f32(6))], {}, { name: 'clip' })];
  };
}

/** x → grouped Conv (group 2, int8 per-channel weights, pads 1, stride 2). */
function groupedConv(b: GraphBuilder, x: Value): Value[] {
  const w = b.constant(Tensor.fromValues('int8', [6, 2, 3, 3], Array.from({ length: 108 }, (_, i) => ((i * 53) % 255) - 127)));
  const ws = b.constant(Tensor.fromValues('float32', [6], [0.004, 0.003, 0.005, 0.002, 0.0045, 0.006]));
  const wz = b.constant(Tensor.fromValues('int8', [6], [0, 0, 0, 0, 0, 0]));
  const weights = b.op1('onnx.DequantizeLinear', [w, ws, wz], { axis: attrs.int(0) }, { name: 'w_dq' });
  const bias = b.constant(Tensor.fromValues('float32', [6], [0.1, -0.2, 0.3, 0, 0.05, -0.4]));
  return [b.op1('onnx.Conv', [x, weights, bias], { group: attrs.int(2), pads: attrs.ints([1, 1, 1, 1]), strides: attrs.ints([2, 2]) }, { name: 'grouped_conv' })];
}

/**
 * x → Add(0.5) → Q(s1, z) → DQ(s2, z2): the integers reinterpreted with other parameters (quantize-static's
 * HardSigmoid-as-Add folds α into the scale this way), which becomes int8 MUL (and ADD for z2 ≠ z).
 */
function reinterpreted(s1: number, s2: number, z: number, z2: number) {
  return (b: GraphBuilder, x: Value) => {
    const half = b.op1('onnx.DequantizeLinear', [b.constant(Tensor.scalar('int8', 127)), b.constant(f32(Math.fround(0.5 / 127)))], {}, { name: 'half' });
    const sum = b.op1('onnx.Add', [x, half], {}, { name: 'add' });
    const q = b.op1('onnx.QuantizeLinear', [sum, b.constant(f32(s1)), b.constant(Tensor.scalar('uint8', z))], {}, { name: 'add_q' });
    return [b.op1('onnx.DequantizeLinear', [q, b.constant(f32(s2)), b.constant(Tensor.scalar('uint8', z2))], {}, { name: 'reinterpret_dq' })];
  };
}

const CASES: readonly OpCase[] = [
  { name: 'Clip [0, 6] → RELU6', body: single('onnx.Clip', [f32(0), f32(6)]), out: [p(6, 0)], builtins: ['RELU6'] },
  { name: 'Clip [−1, 1] → RELU_N1_TO_1', body: single('onnx.Clip', [f32(-1), f32(1)]), out: [p(2.2, 120)], builtins: ['RELU_N1_TO_1'] },
  { name: 'Clip [0, ∞) → RELU', body: single('onnx.Clip', [f32(0)]), out: [p(4.5, 0)], builtins: ['RELU'] },
  { name: 'Clip [−0.7, 2.3] → MAXIMUM, MINIMUM', body: single('onnx.Clip', [f32(-0.7), f32(2.3)]), out: [p(3.1, 60)], builtins: ['MAXIMUM', 'MINIMUM'] },
  { name: 'Clip (min −1.1 only) → MAXIMUM', body: single('onnx.Clip', [f32(-1.1)]), out: [p(5.5, 51)], builtins: ['MAXIMUM'] },
  { name: 'Clip (max 1.9 only) → MINIMUM', body: single('onnx.Clip', [undefined, f32(1.9)]), out: [p(6.2, 215)], builtins: ['MINIMUM'] },
  {
    // conv → Q1/DQ → Clip(0, 6) → Q2: the conv takes Q2 and a fused RELU6 (Q1 covers [0, 6], s1 = 1.5·s2 ≤ 2·s2).
    name: 'Conv → Clip [0, 6] fused into CONV_2D',
    body: convThenClip(85),
    out: [p(6, 0)],
    builtins: ['CONV_2D'],
    absent: ['RELU6'],
  },
  // Q1 tops out at 4.06: ORT saturates there, so the clamp stays a RELU6 of its own (requantizing).
  { name: 'Conv → Clip [0, 6] not fused (Q1 saturates first)', body: convThenClip(140), out: [p(6, 0)], builtins: ['CONV_2D', 'RELU6'] },
  // One PAD of the whole input, SPLIT into the groups, one int8 CONV_2D per group (its rows' scales), CONCATENATION.
  { name: 'grouped Conv (group 2) → PAD, SPLIT, CONV_2D ×2, CONCATENATION', body: groupedConv, out: [p(5, 120)], builtins: ['PAD', 'SPLIT', 'CONV_2D', 'CONCATENATION'] },
  { name: 'Q → DQ with another scale (reinterpretation) → int8 MUL', body: reinterpreted(Math.fround(6 / 255), Math.fround(1 / 255), 60, 60), out: [{ scale: Math.fround(1 / 255), zeroPoint: 60 }], builtins: ['MUL'] },
  { name: 'Q → DQ with another scale and zero point → int8 MUL, ADD', body: reinterpreted(Math.fround(6 / 255), Math.fround(2 / 255), 60, 10), out: [{ scale: Math.fround(2 / 255), zeroPoint: 10 }], builtins: ['MUL', 'ADD'] },
  { name: 'LeakyRelu α = 0.1 → LEAKY_RELU', body: single('onnx.LeakyRelu', [], { alpha: attrs.float(0.1) }), out: [p(4.7, 30)], builtins: ['LEAKY_RELU'] },
  { name: 'Gather (axis 1, a negative index) → GATHER', body: single('onnx.Gather', [ints([3, 0, -1, 1, 1])], { axis: attrs.int(1) }), out: [p(8.5, 125)], builtins: ['GATHER'] },
  { name: 'Gather (axis 3, scalar index) → GATHER', body: single('onnx.Gather', [Tensor.scalar('int64', 2n)], { axis: attrs.int(3) }), out: [p(7, 131)], builtins: ['GATHER'] },
  {
    name: 'Split equal (axis 1) → SPLIT, outputs requantized',
    body: (b, x) => b.op('onnx.Split', [x, b.constant(ints([2, 2]))], { axis: attrs.int(1) }, { outputs: 2, name: 'op' }),
    out: [p(8, 128), p(5, 100)],
    builtins: ['SPLIT'],
  },
  {
    name: 'Split unequal (axis 3) → SPLIT_V',
    body: (b, x) => b.op('onnx.Split', [x, b.constant(ints([1, 3, 2]))], { axis: attrs.int(3) }, { outputs: 3, name: 'op' }),
    out: [p(6, 110), p(8, 128), p(9, 140)],
    builtins: ['SPLIT_V'],
  },
  { name: 'Pad edge → GATHER ×2', body: single('onnx.Pad', [ints([0, 0, 2, 1, 0, 0, 1, 3])], { mode: attrs.string('edge') }), out: [p(8, 128)], builtins: ['GATHER'] },
  { name: 'Pad edge, requantized output', body: single('onnx.Pad', [ints([0, 0, 0, 2, 0, 0, 0, 2])], { mode: attrs.string('edge') }), out: [p(6.5, 117)], builtins: ['GATHER'] },
  { name: 'Pad wrap (opset 19) → GATHER ×2', body: single('onnx.Pad', [ints([0, 0, 3, 2, 0, 0, 1, 7])], { mode: attrs.string('wrap') }), out: [p(8, 128)], builtins: ['GATHER'], opset: 19 },
  { name: 'Pad reflect, requantized output → MIRROR_PAD', body: single('onnx.Pad', [ints([0, 0, 2, 1, 0, 0, 1, 2])], { mode: attrs.string('reflect') }), out: [p(7.3, 120)], builtins: ['MIRROR_PAD'] },
];

function quantizePair(b: GraphBuilder, value: Value, params: Params, name: string): Value {
  const s = b.constant(Tensor.scalar('float32', params.scale));
  const z = b.constant(Tensor.scalar('uint8', params.zeroPoint));
  const q = b.op1('onnx.QuantizeLinear', [value, s, z], {}, { name: `${name}_q` });
  return b.op1('onnx.DequantizeLinear', [q, s, z], {}, { name: `${name}_dq` });
}

/** x → Q/DQ → body → Q/DQ per output: each output's reals are its integers times its scale (minus the zero point). */
function qdqModel(testCase: OpCase): { model: Model; watched: string[] } {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', SHAPE));
  const outputs = testCase.body(b, quantizePair(b, x, IN, 'x'));
  const watched = outputs.map((y, i) => {
    const dq = quantizePair(b, y, testCase.out[i]!, `y${i}`);
    b.output(dq);
    return dq.name;
  });
  const model = b.model({ onnx: testCase.opset ?? 17 });
  inferShapes(model, { mode: 'refresh' });
  return { model, watched };
}

function seededInput(seed = 12345): Tensor {
  let state = seed;
  const count = SHAPE.reduce((n, d) => n * d, 1);
  return Tensor.fromValues('float32', SHAPE, Array.from({ length: count }, () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return (state / 2 ** 32) * 8.4 - 4.2; // a little beyond the input's quantized range: saturation included
  }));
}

async function convert(model: Model): Promise<{ converted: Model; statistics: Map<string, number> }> {
  const converted = decodeOnnx(encodeOnnx(model));
  const instrumentation = new StatisticsInstrumentation();
  await new PassManager({ environment: builtinEnvironment(), instrumentations: [instrumentation] }).run(converted, 'legalize-tflite');
  return { converted, statistics: new Map(instrumentation.get('legalize-tflite') ?? []) };
}

const dtypeOf = (value: Value | null | undefined) => (value?.type as TensorType | undefined)?.dtype;

describe('more int8 TFLite ops within one quantization step of ONNX Runtime', () => {
  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const { model, watched } = qdqModel(testCase);
      const { converted, statistics } = await convert(model);
      const ops = converted.graph.nodeList().map((node) => `${node.op.slice(7)}(${dtypeOf(node.inputs[node.op === 'tflite.SPLIT' ? 1 : 0])})`);
      expect(statistics.get('float-ops-in-int8-model'), ops.join(' ')).toBe(0);
      // Nothing runs in float inside: one QUANTIZE of the float input, one DEQUANTIZE per output.
      expect(ops.filter((op) => op === 'QUANTIZE(float32)'), ops.join(' ')).toHaveLength(1);
      expect(ops.filter((op) => op === 'DEQUANTIZE(int8)'), ops.join(' ')).toHaveLength(watched.length);
      for (const builtin of testCase.builtins) {
        const lowered = converted.graph.nodeList().filter((node) => node.op === `tflite.${builtin}`);
        expect(lowered.length, `${builtin} in ${ops.join(' ')}`).toBeGreaterThan(0);
        for (const node of lowered) {
          expect(dtypeOf(node.inputs[builtin === 'SPLIT' ? 1 : 0])).toBe('int8');
          expect(dtypeOf(node.outputs[0])).toBe('int8');
        }
      }
      for (const builtin of testCase.absent ?? []) expect(ops.some((op) => op.startsWith(`${builtin}(`)), ops.join(' ')).toBe(false);

      for (const seed of [12345, 777]) {
        const x = seededInput(seed);
        const expected = await runOrt(model, { x });
        const actual = await new TfliteEngine().run(encodeTflite(converted), { x });
        watched.forEach((name, i) => {
          const a = expected.get(name)!;
          const b = actual.get(name)!;
          expect(b.shape, name).toEqual(a.shape);
          const [av, bv] = [a.toNumbers(), b.toNumbers()];
          let worst = 0;
          for (let k = 0; k < av.length; k++) worst = Math.max(worst, Math.abs(av[k]! - bv[k]!) / testCase.out[i]!.scale);
          expect(worst, name).toBeLessThanOrEqual(1.001);
          // Not a constant output: the op saw the input.
          expect(new Set(bv).size, name).toBeGreaterThan(4);
        });
      }
    }, 60_000);
  }
});

describe('Pad edge/wrap in float (TFLite has neither builtin): GATHER chains, exact', () => {
  for (const mode of ['edge', 'wrap'] as const) {
    it(mode, async () => {
      const b = new GraphBuilder();
      const x = b.input('x', tensorType('float32', SHAPE));
      b.output(b.op1('onnx.Pad', [x, b.constant(ints([0, 1, 3, 0, 0, 2, 1, 5]))], { mode: attrs.string(mode) }, { name: 'pad' }));
      const model = b.model({ onnx: 19 });
      inferShapes(model, { mode: 'refresh' });
      const { converted } = await convert(model);
      expect(converted.graph.nodeList().map((node) => node.op)).toEqual(['tflite.GATHER', 'tflite.GATHER', 'tflite.GATHER']);
      const input = seededInput();
      const expected = [...(await runOrt(model, { x: input })).values()][0]!;
      const actual = [...(await new TfliteEngine().run(encodeTflite(converted), { x: input })).values()][0]!;
      expect(actual.shape).toEqual([1, 7, 10, 11]);
      expect(actual.toNumbers()).toEqual(expected.toNumbers());
    }, 60_000);
  }

  it('refuses a Pad edge along a dynamic axis, naming the node', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', ['n', 4, 6, 6]));
    b.output(b.op1('onnx.Pad', [x, b.constant(ints([1, 0, 0, 0, 1, 0, 0, 0]))], { mode: attrs.string('edge') }, { name: 'edge_pad' }));
    const model = b.model({ onnx: 17 });
    inferShapes(model, { mode: 'refresh' });
    await expect(convert(model)).rejects.toThrow(/edge_pad[\s\S]*static dim along padded axis 0/);
  });
});
