/**
 * More int8 lowerings (issue 12): Clip (RELU-family, MAXIMUM/MINIMUM, fused into the conv before it),
 * Split (SPLIT / SPLIT_V, each output requantized), Gather, LeakyRelu, Pad edge/wrap (GATHER chains; also
 * in float). Each op sits between QuantizeLinear/DequantizeLinear pairs (uint8, ONNX Runtime's QDQ layout)
 * with output parameters unlike the input's; the int8 .tflite runs in TFLite 2.9 and every output's
 * integers must be within one quantization step of ONNX Runtime's (compared through the output
 * DequantizeLinear, which has the same scale and zero point on both sides: |Δreal| ≤ 1 scale).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type AttributeValue, type Model, type TensorType, type Value } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx, readOnnx, writeOnnx } from '@modelpass/onnx';
import { inferShapes } from '@modelpass/ops';
import { PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { disposeSharedOrtRunner, evaluateAccuracy, loadDataset, runOrt, TfliteEngine } from '@modelpass/runtime';
import { encodeTflite, readTflite, writeTflite } from '@modelpass/tflite';
import { PROJECT_MODELS_DIR } from '../real-models.js';
import { seededUniform, stepsApart } from './int8-agreement.js';

const workDir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-int8-more-'));
afterAll(async () => {
  rmSync(workDir, { recursive: true, force: true });
  await disposeSharedOrtRunner();
});

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

function quantizePair(b: GraphBuilder, value: Value, params: Params, name: string, dtype: 'uint8' | 'int16' = 'uint8'): Value {
  const s = b.constant(Tensor.scalar('float32', params.scale));
  const z = b.constant(Tensor.scalar(dtype, params.zeroPoint));
  const q = b.op1('onnx.QuantizeLinear', [value, s, z], {}, { name: `${name}_q` });
  return b.op1('onnx.DequantizeLinear', [q, s, z], {}, { name: `${name}_dq` });
}

/** x → Q/DQ → body → Q/DQ per output: each output's reals are its integers times its scale (minus the zero point). */
function qdqModel(testCase: OpCase, dtype: 'uint8' | 'int16' = 'uint8', input: Params = IN): { model: Model; watched: string[] } {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', SHAPE));
  const outputs = testCase.body(b, quantizePair(b, x, input, 'x', dtype));
  const watched = outputs.map((y, i) => {
    const dq = quantizePair(b, y, testCase.out[i]!, `y${i}`, dtype);
    b.output(dq);
    return dq.name;
  });
  const model = b.model({ onnx: dtype === 'int16' ? 21 : (testCase.opset ?? 17) });
  inferShapes(model, { mode: 'refresh' });
  return { model, watched };
}

function seededInput(seed = 12345): Tensor {
  return seededUniform(SHAPE, seed, -4.2, 8.4); // a little beyond the input's quantized range: saturation included
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
          expect(stepsApart(av, bv, testCase.out[i]!.scale), name).toBeLessThanOrEqual(1.001);
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

describe('16x8 (int16 activations, int8 weights): quantize-static{activations=int16} → TFLite 2.9', () => {
  it('fashion-cnn: int16 CONV_2D with int64 bias, symmetric activations, accuracy within 0.3 pp of ORT on 1,000 test images', async () => {
    const model = readOnnx(join(PROJECT_MODELS_DIR, 'fashion-cnn', 'model.onnx'));
    model.opsetImports.set('onnx', 21); // int16 QuantizeLinear (its ops mean the same at 21)
    model.irVersion = 10;
    await new PassManager({ environment: builtinEnvironment(), verifyEach: false }).run(model, 'simplify,quantize-static{dataset=fashion-mnist:train samples=256 activations=int16}');
    const onnxPath = join(workDir, 'cnn.int16.onnx');
    writeOnnx(model, onnxPath);
    const { converted, statistics } = await convert(readOnnx(onnxPath));
    const tflitePath = join(workDir, 'cnn.int16.tflite');
    writeTflite(converted, tflitePath);

    const nodes = readTflite(tflitePath).graph.nodeList();
    const convs = nodes.filter((node) => node.op === 'tflite.CONV_2D' && dtypeOf(node.inputs[0]) === 'int16');
    expect(convs.length, nodes.map((node) => `${node.op}(${dtypeOf(node.inputs[0])})`).join(' ')).toBe(3); // conv1, conv2, fc1 (per-channel FC as a 1x1 CONV_2D)
    for (const conv of convs) {
      expect(dtypeOf(conv.inputs[1])).toBe('int8');
      expect(dtypeOf(conv.inputs[2])).toBe('int64');
      expect(dtypeOf(conv.outputs[0])).toBe('int16');
    }
    // Every int16 tensor is symmetric (TFLite's 16x8 kernels take zero point 0 only).
    for (const node of nodes) {
      for (const value of [...node.inputs, ...node.outputs]) {
        if (value && dtypeOf(value) === 'int16') expect((value.type as TensorType).quant?.zeroPoint.every((z) => z === 0), value.name).toBe(true);
      }
    }
    expect(statistics.get('float-ops-in-int8-model')).toBe(1); // the classifier, whose output quantize-static keeps float

    const dataset = loadDataset('fashion-mnist:test', { limit: 1000 });
    const ort = await evaluateAccuracy(onnxPath, dataset, { engine: 'ort' });
    const tflite = await evaluateAccuracy(tflitePath, dataset, { engine: 'tflite' });
    console.log(`fashion-cnn 16x8: ORT int16 ${(ort.accuracy * 100).toFixed(2)}%, TFLite ${(tflite.accuracy * 100).toFixed(2)}% (1,000 images)`);
    expect(ort.accuracy).toBeGreaterThan(0.85);
    expect(Math.abs(tflite.accuracy - ort.accuracy) * 100).toBeLessThanOrEqual(0.3);
  }, 180_000);

  it('refuses, per node, an int16 op TFLite 2.9 has no 16x8 kernel for, and int16 next to 8-bit activations', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', SHAPE));
    const qdq = (value: Value, scale: number, zeroPoint: Tensor, name: string) => {
      const [sv, zv] = [b.constant(Tensor.scalar('float32', scale)), b.constant(zeroPoint)];
      return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, sv, zv], {}, { name: `${name}_q` }), sv, zv], {}, { name: `${name}_dq` });
    };
    const x16 = qdq(x, 0.0002, Tensor.scalar('int16', 0), 'x');
    const swish = qdq(b.op1('onnx.HardSwish', [x16], {}, { name: 'int16_hard_swish' }), 0.0002, Tensor.scalar('int16', 0), 'swish');
    const mixed = qdq(b.op1('onnx.Relu', [swish], {}, { name: 'int16_to_uint8_relu' }), 0.02, Tensor.scalar('uint8', 0), 'relu');
    b.output(mixed);
    const model = b.model({ onnx: 21 });
    inferShapes(model, { mode: 'refresh' });
    const error = await convert(model).then(() => undefined, (thrown: unknown) => thrown as Error);
    expect(error?.message).toMatch(/2 quantized node\(s\) cannot become int8 TFLite ops; nothing was written/);
    expect(error?.message).toMatch(/int16_hard_swish[\s\S]*onnx\.HardSwish on int16 activations has no TFLite 2\.9 16x8 kernel/);
    expect(error?.message).toMatch(/int16_to_uint8_relu[\s\S]*int16 activation .* next to the 8-bit/);
  });
});

const s16 = (range: number): Params => ({ scale: Math.fround(range / 32767), zeroPoint: 0 });
const INT16_CASES: readonly (OpCase & { readonly steps: number })[] = [
  { name: 'Relu', body: single('onnx.Relu'), out: [s16(4.2)], builtins: ['RELU'], steps: 1 },
  { name: 'Add (a constant)', body: (b, x) => [b.op1('onnx.Add', [x, b.op1('onnx.DequantizeLinear', [b.constant(Tensor.scalar('int16', 16000)), b.constant(f32(Math.fround(1.5 / 16000)))], {})], {})], out: [s16(5.8)], builtins: ['ADD'], steps: 1 },
  { name: 'Mul (itself)', body: (b, x) => [b.op1('onnx.Mul', [x, x], {})], out: [s16(17.7)], builtins: ['MUL'], steps: 1 },
  // TFLite's int16 LOGISTIC/TANH interpolate a table: within 2 steps of 2⁻¹⁵ (measured 1.002 and 2.0).
  { name: 'Sigmoid', body: single('onnx.Sigmoid'), out: [s16(1)], builtins: ['LOGISTIC'], steps: 2 },
  { name: 'Tanh', body: single('onnx.Tanh'), out: [s16(1)], builtins: ['TANH'], steps: 2 },
  { name: 'Softmax (last axis)', body: single('onnx.Softmax', [], { axis: attrs.int(-1) }), out: [s16(1)], builtins: ['SOFTMAX'], steps: 2 },
  { name: 'Softmax (axis 1, transposed there and back)', body: single('onnx.Softmax', [], { axis: attrs.int(1) }), out: [s16(1)], builtins: ['SOFTMAX', 'TRANSPOSE'], steps: 2 },
  { name: 'Concat', body: (b, x) => [b.op1('onnx.Concat', [x, x], { axis: attrs.int(1) })], out: [s16(4.2)], builtins: ['CONCATENATION'], steps: 1 },
  { name: 'MaxPool', body: single('onnx.MaxPool', [], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) }), out: [s16(3)], builtins: ['MAX_POOL_2D'], steps: 1 },
  { name: 'AveragePool', body: single('onnx.AveragePool', [], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) }), out: [s16(3)], builtins: ['AVERAGE_POOL_2D'], steps: 1 },
  { name: 'ReduceMean', body: single('onnx.ReduceMean', [ints([2, 3])], { keepdims: attrs.int(1) }), out: [s16(1)], builtins: ['MEAN'], steps: 1 },
  { name: 'Slice', body: single('onnx.Slice', [ints([1, 1]), ints([5, 6]), ints([2, 3]), ints([2, 2])]), out: [s16(3)], builtins: ['STRIDED_SLICE'], steps: 1 },
  { name: 'Pad (zeros)', body: single('onnx.Pad', [ints([0, 0, 1, 2, 0, 0, 2, 1])]), out: [s16(4.2)], builtins: ['PAD'], steps: 1 },
  { name: 'LeakyRelu', body: single('onnx.LeakyRelu', [], { alpha: attrs.float(0.1) }), out: [s16(4.2)], builtins: ['LEAKY_RELU'], steps: 1 },
  { name: 'Clip [−0.7, 2.3]', body: single('onnx.Clip', [f32(-0.7), f32(2.3)]), out: [s16(2.4)], builtins: ['MAXIMUM', 'MINIMUM'], steps: 1 },
  { name: 'Gather', body: single('onnx.Gather', [ints([3, 0, 1])], { axis: attrs.int(1) }), out: [s16(4.2)], builtins: ['GATHER'], steps: 1 },
  { name: 'Split', body: (b, x) => b.op('onnx.Split', [x, b.constant(ints([1, 3]))], { axis: attrs.int(1) }, { outputs: 2 }), out: [s16(4.2), s16(3)], builtins: ['SPLIT_V'], steps: 1 },
  { name: 'Resize nearest ×2', body: single('onnx.Resize', [undefined, Tensor.fromValues('float32', [4], [1, 1, 2, 2])], { mode: attrs.string('nearest'), coordinate_transformation_mode: attrs.string('asymmetric'), nearest_mode: attrs.string('floor') }), out: [s16(4.2)], builtins: ['RESIZE_NEAREST_NEIGHBOR'], steps: 1 },
  { name: 'Resize bilinear ×2', body: single('onnx.Resize', [undefined, Tensor.fromValues('float32', [4], [1, 1, 2, 2])], { mode: attrs.string('linear'), coordinate_transformation_mode: attrs.string('half_pixel') }), out: [s16(4.2)], builtins: ['RESIZE_BILINEAR'], steps: 1 },
  { name: 'Sub (a constant)', body: (b, x) => [b.op1('onnx.Sub', [x, b.op1('onnx.DequantizeLinear', [b.constant(Tensor.scalar('int16', 16000)), b.constant(f32(Math.fround(1.5 / 16000)))], {})], {})], out: [s16(5.8)], builtins: ['SUB'], steps: 1 },
  { name: 'MatMul of two activations', body: (b, x) => [b.op1('onnx.MatMul', [x, x], {})], out: [s16(40)], builtins: ['BATCH_MATMUL'], steps: 1 },
];

describe('16x8 single ops in TFLite 2.9 vs ORT (symmetric int16)', () => {
  for (const testCase of INT16_CASES) {
    it(testCase.name, async () => {
      const { model, watched } = qdqModel(testCase, 'int16', s16(4.2));
      const { converted } = await convert(model);
      const ops = converted.graph.nodeList().map((node) => `${node.op.slice(7)}(${dtypeOf(node.inputs[node.op === 'tflite.SPLIT' ? 1 : 0])})`);
      for (const builtin of testCase.builtins) expect(ops.some((op) => op === `${builtin}(int16)`), ops.join(' ')).toBe(true);
      const x = seededInput();
      const expected = await runOrt(model, { x });
      const actual = await new TfliteEngine().run(encodeTflite(converted), { x });
      watched.forEach((name, i) => {
        const [av, bv] = [expected.get(name)!.toNumbers(), actual.get(name)!.toNumbers()];
        const worst = stepsApart(av, bv, testCase.out[i]!.scale);
        console.log(`16x8 ${testCase.name} ${name}: worst ${worst.toFixed(2)} steps`);
        expect(worst, name).toBeLessThanOrEqual(testCase.steps + 0.001);
      });
    }, 60_000);
  }
});

describe('a float classifier of an int8 model keeps int8 weights quantized per tensor', () => {
  it('Gemm with per-tensor int8 weights and a float output: int8 weights behind a DEQUANTIZE, logits as ORT', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 64]));
    const xq = quantizePair(b, x, IN, 'x');
    const w = b.constant(Tensor.fromValues('int8', [32, 64], Array.from({ length: 2048 }, (_, i) => ((i * 71) % 255) - 127)));
    const weights = b.op1('onnx.DequantizeLinear', [w, b.constant(f32(0.003)), b.constant(Tensor.scalar('int8', 0))], {}, { name: 'w_dq' });
    b.output(b.op1('onnx.Gemm', [xq, weights, b.constant(Tensor.fromValues('float32', [32], Array.from({ length: 32 }, (_, i) => i / 10)))], { transB: attrs.int(1) }, { name: 'classifier' }));
    const model = b.model({ onnx: 17 });
    inferShapes(model, { mode: 'refresh' });
    const { converted, statistics } = await convert(model);
    expect(statistics.get('int8-weights')).toBe(1);
    const fc = converted.graph.nodeList().find((node) => node.op === 'tflite.FULLY_CONNECTED')!;
    const weight = fc.input(1).producer;
    expect(weight?.op).toBe('tflite.DEQUANTIZE');
    expect(weight!.input(0).constant?.dtype).toBe('int8');
    expect(weight!.input(0).constant?.quant?.axis).toBeUndefined();
    let state = 3;
    const input = Tensor.fromValues('float32', [2, 64], Array.from({ length: 128 }, () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 8 - 4));
    const expected = [...(await runOrt(model, { x: input })).values()][0]!.toNumbers();
    const actual = [...(await new TfliteEngine().run(encodeTflite(converted), { x: input })).values()][0]!.toNumbers();
    for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(expected[i]!)));
  });
});
