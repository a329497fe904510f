/**
 * legalize-tflite on recurrent ops, control flow, sequences/optionals, quantized-op forms and
 * transformer/spectral ops, judged like tflite-legalize-ops-more.test.ts: the TFLite runtime
 * (TFLite 2.9) within 1e-4 of ONNX Runtime on the original model, every node of the result a tflite
 * op; and the refusals name the node and the reason before anything changes.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Graph, GraphBuilder, Tensor, tensorType, type Attribute, type DType, type Model, type Value } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { inferShapes, runReference } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { compareInRuntimes, expectRefused, feedsFor, legalize, maxAbsDifference, seededTensor, singleInputModel, type SingleInputCase } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

interface OpCase extends SingleInputCase {
  readonly name: string;
  readonly range?: [number, number];
  /** `reference`: the canonical op set's reference kernels judge (ONNX Runtime 1.30 lacks the op or the attribute value, e.g. batch-first recurrent layout 1). */
  readonly referee?: 'ort' | 'reference';
}

const f32 = (shape: number[], seed = 3, lo = -0.5, hi = 0.5): Tensor => seededTensor(shape, seed, lo, hi);

interface RecurrentCase {
  readonly op: 'RNN' | 'GRU' | 'LSTM';
  readonly direction?: 'forward' | 'reverse' | 'bidirectional';
  readonly layout?: 0 | 1;
  readonly bias?: boolean;
  /** W, R, B (and P) as graph inputs, as ONNX's conformance cases give them. */
  readonly runtimeWeights?: boolean;
  /** Initial states: absent, constants, or graph inputs (run time). */
  readonly initial?: 'none' | 'constant' | 'input';
  readonly peepholes?: boolean;
  readonly attributes?: Record<string, Attribute>;
  readonly outputs?: readonly number[];
}

/** A recurrent node over X [seq 5, batch 2, input 3] (layout 0) or [2, 5, 3] (layout 1), hidden 4. */
function recurrentCase(spec: RecurrentCase): OpCase {
  const gates = { RNN: 1, GRU: 3, LSTM: 4 }[spec.op];
  const directions = spec.direction === 'bidirectional' ? 2 : 1;
  const layout = spec.layout ?? 0;
  const [steps, batch, inputSize, hidden] = [5, 2, 3, 4];
  const stateShape = layout === 0 ? [directions, batch, hidden] : [batch, directions, hidden];
  const named = Object.entries(spec.attributes ?? {}).map(([key, value]) => `${key}=${String(value.value)}`).join(' ');
  return {
    name: `${spec.op} ${spec.direction ?? 'forward'} layout=${layout} initial=${spec.initial ?? 'none'}${spec.runtimeWeights ? ' run-time weights' : ''}${spec.peepholes ? ' peepholes' : ''}${spec.bias === false ? ' no bias' : ''}${named ? ` ${named}` : ''}`,
    input: layout === 0 ? [steps, batch, inputSize] : [batch, steps, inputSize],
    opset: 14,
    range: [-2, 2],
    // ONNX Runtime's CPU kernels refuse layout=1 ("Batchwise recurrent operations are not supported").
    referee: layout === 1 ? 'reference' : 'ort',
    build: (b, x) => {
      const weight = (name: string, shape: number[], seed: number): Value => (spec.runtimeWeights ? b.input(name, tensorType('float32', shape)) : b.constant(f32(shape, seed)));
      const inputs: (Value | null)[] = [
        x,
        weight('W', [directions, gates * hidden, inputSize], 11),
        weight('R', [directions, gates * hidden, hidden], 12),
        spec.bias === false ? null : weight('B', [directions, 2 * gates * hidden], 13),
        null,
      ];
      const state = (index: number): Value | null => {
        if ((spec.initial ?? 'none') === 'none') return null;
        if (spec.initial === 'constant') return b.constant(f32(stateShape, 20 + index, -1, 1));
        return b.input(`state_${index}`, tensorType('float32', stateShape));
      };
      inputs.push(state(0));
      if (spec.op === 'LSTM') inputs.push(state(1), spec.peepholes ? weight('P', [directions, 3 * hidden], 14) : null);
      const attributes = { hidden_size: attrs.int(hidden), direction: attrs.string(spec.direction ?? 'forward'), layout: attrs.int(layout), ...spec.attributes };
      const outputs = b.op(`onnx.${spec.op}`, inputs, attributes, { outputs: spec.op === 'LSTM' ? 3 : 2 });
      return (spec.outputs ?? outputs.map((_, i) => i)).map((i) => outputs[i]!);
    },
  };
}

const RECURRENT_CASES: OpCase[] = [
  recurrentCase({ op: 'LSTM' }),
  recurrentCase({ op: 'LSTM', direction: 'bidirectional', initial: 'constant', peepholes: true }),
  recurrentCase({ op: 'LSTM', direction: 'reverse', layout: 1, initial: 'input' }),
  recurrentCase({ op: 'LSTM', direction: 'bidirectional', layout: 1, initial: 'input', outputs: [1, 2] }),
  recurrentCase({ op: 'LSTM', bias: false, attributes: { activations: attrs.strings(['Sigmoid', 'Relu', 'Tanh']) } }),
  recurrentCase({ op: 'GRU' }),
  recurrentCase({ op: 'GRU', direction: 'bidirectional', initial: 'input', attributes: { linear_before_reset: attrs.int(1) } }),
  recurrentCase({ op: 'GRU', direction: 'reverse', layout: 1, initial: 'constant' }),
  recurrentCase({ op: 'GRU', layout: 1, attributes: { linear_before_reset: attrs.int(1) }, outputs: [0] }),
  recurrentCase({ op: 'RNN' }),
  recurrentCase({ op: 'RNN', direction: 'bidirectional', layout: 1, initial: 'input', attributes: { activations: attrs.strings(['Relu', 'Tanh']) } }),
  recurrentCase({ op: 'RNN', direction: 'reverse', initial: 'constant', bias: false }),
  recurrentCase({ op: 'LSTM', direction: 'bidirectional', initial: 'input', peepholes: true, runtimeWeights: true }),
  recurrentCase({ op: 'GRU', direction: 'bidirectional', runtimeWeights: true, attributes: { linear_before_reset: attrs.int(1) } }),
  recurrentCase({ op: 'GRU', runtimeWeights: true }),
  recurrentCase({ op: 'RNN', direction: 'reverse', runtimeWeights: true }),
  recurrentCase({ op: 'LSTM', direction: 'bidirectional', attributes: { clip: attrs.float(0.4), input_forget: attrs.int(1) } }),
  recurrentCase({ op: 'GRU', attributes: { clip: attrs.float(0.3), activations: attrs.strings(['HardSigmoid', 'Softsign']), activation_alpha: attrs.floats([0.3]), activation_beta: attrs.floats([0.6]) } }),
  recurrentCase({ op: 'RNN', direction: 'bidirectional', attributes: { activations: attrs.strings(['LeakyRelu', 'Elu']), activation_alpha: attrs.floats([0.2, 0.7]) } }),
  recurrentCase({ op: 'RNN', direction: 'bidirectional', attributes: { activations: attrs.strings(['Softplus', 'ScaledTanh']), activation_alpha: attrs.floats([0.8]), activation_beta: attrs.floats([1.5]) } }),
  recurrentCase({ op: 'LSTM', attributes: { activations: attrs.strings(['HardSigmoid', 'Affine', 'ThresholdedRelu']), activation_alpha: attrs.floats([0.25, 0.5, 0.1]), activation_beta: attrs.floats([0.45, 0.2]) } }),
];

const buildCase = (testCase: OpCase): Model => singleInputModel(testCase);

async function expectConverts(testCase: OpCase): Promise<void> {
  const original = buildCase(testCase);
  const converted = buildCase(testCase);
  await legalize(converted, 'optimize=false');
  const foreign = converted.graph.nodeList().filter((node) => !node.op.startsWith('tflite.'));
  expect(foreign.map((node) => node.op)).toEqual([]);
  const feeds = feedsFor(original, 7, testCase.range ?? [-1, 1]);
  const differences = testCase.referee === 'reference' ? await compareWithReference(original, converted, feeds) : await compareInRuntimes(original, converted, feeds);
  for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
}

const engine = new TfliteEngine();

/** The reference interpreter on `original` vs the TFLite runtime on `converted`: the worst difference per output. */
async function compareWithReference(original: Model, converted: Model, feeds: Record<string, Tensor>): Promise<number[]> {
  const expected = runReference(original, feeds);
  const actual = await engine.run(converted, feeds);
  return original.graph.outputs.map((output, index) => {
    const want = expected.get(output.name);
    const got = actual.get(converted.graph.outputs[index]!.name);
    if (!(want instanceof Tensor) || !got) throw new Error(`output ${output.name} is missing`);
    return maxAbsDifference(want, got);
  });
}

describe('legalize-tflite, recurrent ops unrolled: TFLite runtime within 1e-4 of ONNX Runtime', () => {
  for (const testCase of RECURRENT_CASES) it(testCase.name, () => expectConverts(testCase));

  it('refuses what does not unroll, per node with the reason', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [5, 2, 3]));
    // Run-time sequence_lens are masked since s13; lengths of an unknown count still are not.
    const lengths = b.input('lengths', tensorType('int32', ['n']));
    const w = (gates: number) => b.constant(f32([1, gates * 4, 3], 1));
    const r = (gates: number) => b.constant(f32([1, gates * 4, 4], 2));
    const hidden = { hidden_size: attrs.int(4) };
    const [clipped] = b.op('onnx.LSTM', [x, w(4), r(4)], { ...hidden, activations: attrs.strings(['Sigmoid', 'Affine', 'Tanh']) }, { outputs: 3, name: 'affine_lstm' });
    const [ragged] = b.op('onnx.GRU', [x, w(3), r(3), null, lengths], hidden, { outputs: 2, name: 'ragged_gru' });
    const [odd] = b.op('onnx.RNN', [x, w(1), r(1)], { ...hidden, activations: attrs.strings(['Swish']) }, { outputs: 2, name: 'swish_rnn' });
    const [runtimeWeights] = b.op('onnx.RNN', [x, b.input('w', tensorType('float32', ['d', 4, 3])), r(1)], hidden, { outputs: 2, name: 'dynamic_weights_rnn' });
    b.output(clipped!, ragged!, odd!, runtimeWeights!);
    const model = b.model({ onnx: 14 });
    inferShapes(model, { mode: 'refresh' });
    await expectRefused(model, [/affine_lstm.*activation 'Affine' needs its alpha given/, /ragged_gru.*sequence_lens needs the static shape \[2\]/, /swish_rnn.*activation 'Swish' is not supported/, /dynamic_weights_rnn.*W needs a static shape/]);
  });
});

/** A body graph built in code: `inputs` declared, `build` returns its outputs (it may read values of enclosing graphs). */
function body(name: string, inputs: readonly [string, DType, readonly number[]][], build: (b: GraphBuilder, inputs: Value[]) => Value[]): Graph {
  const b = new GraphBuilder(new Graph(name));
  const values = inputs.map(([inputName, dtype, shape]) => b.input(inputName, tensorType(dtype, [...shape])));
  b.output(...build(b, values));
  return b.graph;
}

const i64 = (values: number[], shape = [values.length]): Tensor => Tensor.fromValues('int64', shape, values.map((v) => BigInt(v)));
const scalarI64 = (value: number): Tensor => Tensor.fromValues('int64', [], [BigInt(value)]);

/** Loop of `trips` iterations (constant) carrying v: v ← v·0.5 + x·(i+1); scan output v². The condition is passed on. */
function constantLoop(b: GraphBuilder, x: Value, trips: number): Value[] {
  const loopBody = body('loop_body', [['i', 'int64', []], ['cond', 'bool', []], ['v', 'float32', [2, 3]]], (inner, [i, cond, v]) => {
    const step = inner.op1('onnx.Cast', [inner.op1('onnx.Add', [i!, inner.constant(scalarI64(1))])], { to: attrs.int(1) });
    const next = inner.op1('onnx.Add', [inner.op1('onnx.Mul', [v!, inner.constant(Tensor.scalar('float32', 0.5))]), inner.op1('onnx.Mul', [x, step])]);
    return [inner.op1('onnx.Identity', [cond!]), next, inner.op1('onnx.Mul', [next, next])];
  });
  return b.op('onnx.Loop', [b.constant(scalarI64(trips)), null, b.constant(f32([2, 3], 31))], { body: attrs.graph(loopBody) }, { outputs: 2 });
}

const CONTROL_CASES: OpCase[] = [
  {
    name: 'If with a constant condition: the then branch inlined',
    input: [2, 3],
    build: (b, x) => {
      const thenBranch = body('then', [], (inner) => [inner.op1('onnx.Mul', [inner.op1('onnx.Relu', [x]), inner.constant(Tensor.scalar('float32', 2))])]);
      const elseBranch = body('else', [], (inner) => [inner.op1('onnx.Neg', [x])]);
      return b.op1('onnx.If', [b.constant(Tensor.scalar('bool', true))], { then_branch: attrs.graph(thenBranch), else_branch: attrs.graph(elseBranch) });
    },
  },
  ...[0.4, -0.4].map((shift): OpCase => ({
    name: `If with a run-time condition (${shift > 0 ? 'then' : 'else'} taken): both branches + SELECT_V2`,
    input: [2, 3],
    build: (b, x) => {
      const thenBranch = body('then', [], (inner) => [inner.op1('onnx.Sigmoid', [x]), inner.op1('onnx.Relu', [x])]);
      const elseBranch = body('else', [], (inner) => [inner.op1('onnx.Tanh', [x]), inner.op1('onnx.Abs', [x])]);
      const total = b.op1('onnx.ReduceSum', [b.op1('onnx.Add', [x, b.constant(Tensor.scalar('float32', shift))]), b.constant(i64([0, 1]))], { keepdims: attrs.int(0) });
      const condition = b.op1('onnx.Greater', [total, b.constant(Tensor.scalar('float32', 0))]);
      return b.op('onnx.If', [condition], { then_branch: attrs.graph(thenBranch), else_branch: attrs.graph(elseBranch) }, { outputs: 2 });
    },
  })),
  { name: 'Loop with a constant trip count: unrolled (carried value and scan output)', input: [2, 3], build: (b, x) => constantLoop(b, x, 3) },
  {
    name: 'Loop carrying a sequence (SequenceInsert per iteration) then ConcatFromSequence',
    input: [2, 3],
    build: (b, x) => {
      const loopBody = body('seq_body', [['i', 'int64', []], ['cond', 'bool', []]], (inner, [i, cond]) => {
        const seqIn = inner.input('seq', { kind: 'sequence', element: tensorType('float32', [2, 3]) } as never);
        const scaled = inner.op1('onnx.Mul', [x, inner.op1('onnx.Cast', [i!], { to: attrs.int(1) })]);
        return [cond!, inner.op1('onnx.SequenceInsert', [seqIn, scaled])];
      });
      const empty = b.op1('onnx.SequenceEmpty', [], { dtype: attrs.int(1) });
      const [sequence] = b.op('onnx.Loop', [b.constant(scalarI64(3)), b.constant(Tensor.scalar('bool', true)), empty], { body: attrs.graph(loopBody) }, { outputs: 1 });
      return b.op1('onnx.ConcatFromSequence', [sequence!], { axis: attrs.int(1), new_axis: attrs.int(1) });
    },
  },
  {
    name: 'Scan: running sum over axis 0, one input reversed, scan output on axis 1',
    input: [4, 3],
    opset: 17,
    build: (b, x) => {
      const scanBody = body('scan_body', [['s', 'float32', [3]], ['a', 'float32', [3]], ['r', 'float32', [3]]], (inner, [s, a, r]) => {
        const next = inner.op1('onnx.Add', [s!, inner.op1('onnx.Mul', [a!, r!])]);
        return [next, inner.op1('onnx.Tanh', [next])];
      });
      return b.op('onnx.Scan', [b.constant(f32([3], 41)), x, b.op1('onnx.Sigmoid', [x])], {
        body: attrs.graph(scanBody),
        num_scan_inputs: attrs.int(2),
        scan_input_directions: attrs.ints([0, 1]),
        scan_output_axes: attrs.ints([1]),
      }, { outputs: 2 });
    },
  },
  {
    name: 'SplitToSequence (keepdims=0) → SequenceAt(-1), SequenceLength-scaled ConcatFromSequence',
    input: [2, 3, 4],
    build: (b, x) => {
      const sequence = b.op1('onnx.SplitToSequence', [x], { axis: attrs.int(1), keepdims: attrs.int(0) });
      const last = b.op1('onnx.SequenceAt', [sequence, b.constant(scalarI64(-1))]);
      const length = b.op1('onnx.Cast', [b.op1('onnx.SequenceLength', [sequence])], { to: attrs.int(1) });
      const stacked = b.op1('onnx.ConcatFromSequence', [sequence], { axis: attrs.int(-1), new_axis: attrs.int(1) });
      return [b.op1('onnx.Mul', [last, length]), stacked];
    },
  },
  {
    name: 'SplitToSequence with sizes → SequenceConstruct/Insert/Erase → ConcatFromSequence',
    input: [2, 5],
    build: (b, x) => {
      const parts = b.op1('onnx.SplitToSequence', [x, b.constant(i64([2, 3]))], { axis: attrs.int(1) });
      const wide = b.op1('onnx.SequenceAt', [parts, b.constant(scalarI64(1))]);
      const built = b.op1('onnx.SequenceConstruct', [wide, b.op1('onnx.Relu', [wide])]);
      const inserted = b.op1('onnx.SequenceInsert', [built, b.op1('onnx.Neg', [wide]), b.constant(scalarI64(1))]);
      const erased = b.op1('onnx.SequenceErase', [inserted, b.constant(scalarI64(0))]);
      return b.op1('onnx.ConcatFromSequence', [erased], { axis: attrs.int(0) });
    },
  },
  {
    name: 'Optional → OptionalHasElement / OptionalGetElement',
    input: [2, 3],
    opset: 18,
    build: (b, x) => {
      const optional = b.op1('onnx.Optional', [x]);
      const has = b.op1('onnx.Cast', [b.op1('onnx.OptionalHasElement', [optional])], { to: attrs.int(1) });
      return b.op1('onnx.Add', [b.op1('onnx.OptionalGetElement', [optional]), has]);
    },
  },
];

describe('legalize-tflite, control flow, sequences and optionals resolved at conversion time: TFLite runtime within 1e-4 of ONNX Runtime', () => {
  for (const testCase of CONTROL_CASES) it(testCase.name, () => expectConverts(testCase));

  it('refuses what depends on run-time data, per node with the reason', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 3]));
    const where = b.input('where', tensorType('int64', []));
    // If/Loop on run-time data become TFLite IF/WHILE: tflite-legalize-control-regions.test.ts (with their refusals).
    const sequence = b.op1('onnx.SequenceConstruct', [x, x], {}, { name: 'construct' });
    const picked = b.op1('onnx.SequenceAt', [sequence, where], {}, { name: 'runtime_at' });
    b.output(picked);
    const model = b.model({ onnx: 17 });
    inferShapes(model, { mode: 'refresh' });
    await expectRefused(model, [
      /runtime_at.*position is computed at run time/,
      /construct.*read by 'runtime_at'/,
    ]);
  });
});

const u8 = (value: number): Tensor => Tensor.fromValues('uint8', [], [value]);
const i8 = (value: number): Tensor => Tensor.fromValues('int8', [], [value]);
const scalarF32 = (value: number): Tensor => Tensor.scalar('float32', Math.fround(value));
/** Deterministic integers in [lo, hi] of a dtype. */
function integers(dtype: 'uint8' | 'int8' | 'int32', shape: number[], seed: number, lo: number, hi: number): Tensor {
  return Tensor.fromValues(dtype, shape, seededTensor(shape, seed, lo, hi + 1).toNumbers().map((v) => Math.floor(v)));
}

const INTEGER_CASES: OpCase[] = [
  { name: 'DynamicQuantizeLinear (uint8 values, scale, zero point)', input: [3, 4], range: [-2, 5], build: (b, x) => b.op('onnx.DynamicQuantizeLinear', [x], {}, { outputs: 3 }) },
  { name: 'DynamicQuantizeLinear of positive values (range starts at 0)', input: [2, 5], range: [0.5, 3], build: (b, x) => b.op('onnx.DynamicQuantizeLinear', [x], {}, { outputs: 3 }) },
  {
    name: 'MatMulInteger uint8 × int8, K = 300 (two exact float chunks), zero points',
    input: [2, 300],
    range: [0, 255],
    build: (b, x) => {
      const a = b.op1('onnx.Cast', [x], { to: attrs.int(2) });
      return b.op1('onnx.MatMulInteger', [a, b.constant(integers('int8', [300, 5], 91, -128, 127)), b.constant(u8(128)), b.constant(i8(3))]);
    },
  },
  {
    name: 'MatMulInteger rank 3 × uint8 B with per-column zero points',
    input: [2, 3, 6],
    range: [0, 255],
    build: (b, x) => {
      const a = b.op1('onnx.Cast', [x], { to: attrs.int(2) });
      return b.op1('onnx.MatMulInteger', [a, b.constant(integers('uint8', [6, 4], 92, 0, 255)), null, b.constant(Tensor.fromValues('uint8', [4], [0, 7, 128, 255]))]);
    },
  },
  {
    name: 'ConvInteger uint8, pads, zero points',
    input: [1, 3, 5, 5],
    range: [0, 255],
    build: (b, x) => {
      const q = b.op1('onnx.Cast', [x], { to: attrs.int(2) });
      return b.op1('onnx.ConvInteger', [q, b.constant(integers('uint8', [4, 3, 3, 3], 93, 0, 255)), b.constant(u8(100)), b.constant(u8(120))], { pads: attrs.ints([1, 1, 1, 1]) });
    },
  },
  {
    name: 'ConvInteger with 40 input channels (3×3: chunks of 28 channels summed in int32), stride 2',
    input: [1, 40, 6, 6],
    range: [0, 255],
    build: (b, x) => {
      const q = b.op1('onnx.Cast', [x], { to: attrs.int(2) });
      return b.op1('onnx.ConvInteger', [q, b.constant(integers('uint8', [3, 40, 3, 3], 94, 0, 255)), b.constant(u8(255)), b.constant(u8(1))], { strides: attrs.ints([2, 2]) });
    },
  },
];

interface QOperatorCase {
  readonly name: string;
  readonly input: number[];
  /** The QOperator node on the quantized input (uint8, scale 2/255, zero point 128); returns its uint8 output. */
  readonly build: (b: GraphBuilder, q: Value, inScale: Value, inZero: Value) => Value;
  readonly out: { scale: number; zeroPoint: number };
  readonly options?: string;
}

const IN_SCALE = Math.fround(2 / 255);

const QOPERATOR_CASES: QOperatorCase[] = [
  { name: 'QLinearAdd', input: [1, 3, 4, 4], out: { scale: 3 / 255, zeroPoint: 120 }, build: (b, q, s, z) => b.op1('com.microsoft.QLinearAdd', [q, s, z, b.constant(integers('uint8', [4], 95, 0, 255)), b.constant(scalarF32(1 / 255)), b.constant(u8(128)), b.constant(scalarF32(3 / 255)), b.constant(u8(120))]) },
  { name: 'QLinearMul', input: [1, 3, 4, 4], out: { scale: 1.5 / 255, zeroPoint: 128 }, build: (b, q, s, z) => b.op1('com.microsoft.QLinearMul', [q, s, z, q, s, z, b.constant(scalarF32(1.5 / 255)), b.constant(u8(128))]) },
  { name: 'QLinearSigmoid', input: [1, 3, 4, 4], out: { scale: 1 / 256, zeroPoint: 0 }, build: (b, q, s, z) => b.op1('com.microsoft.QLinearSigmoid', [q, s, z, b.constant(scalarF32(1 / 256)), b.constant(u8(0))]) },
  { name: 'QLinearAveragePool 2×2', input: [1, 3, 4, 4], out: { scale: 2 / 255, zeroPoint: 128 }, build: (b, q, s, z) => b.op1('com.microsoft.QLinearAveragePool', [q, s, z, b.constant(scalarF32(2 / 255)), b.constant(u8(128))], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) }) },
  { name: 'QLinearGlobalAveragePool', input: [1, 3, 4, 4], out: { scale: 2 / 255, zeroPoint: 128 }, build: (b, q, s, z) => b.op1('com.microsoft.QLinearGlobalAveragePool', [q, s, z, b.constant(scalarF32(2 / 255)), b.constant(u8(128))], { channels_last: attrs.int(0) }) },
  {
    name: 'QLinearConcat (requantized inputs)',
    input: [1, 3, 4, 4],
    out: { scale: 2.5 / 255, zeroPoint: 128 },
    build: (b, q, s, z) => {
      const other = b.op1('onnx.QuantizeLinear', [b.constant(f32([1, 2, 4, 4], 96, -1, 1)), b.constant(scalarF32(1 / 255)), b.constant(u8(130))]);
      return b.op1('com.microsoft.QLinearConcat', [b.constant(scalarF32(2.5 / 255)), b.constant(u8(128)), q, s, z, other, b.constant(scalarF32(1 / 255)), b.constant(u8(130))], { axis: attrs.int(1) });
    },
  },
  { name: 'QLinearLeakyRelu (in float between DEQUANTIZE and QUANTIZE)', input: [1, 3, 4, 4], options: 'unsupported-int8=float', out: { scale: 1.2 / 255, zeroPoint: 20 }, build: (b, q, s, z) => b.op1('com.microsoft.QLinearLeakyRelu', [q, s, z, b.constant(scalarF32(1.2 / 255)), b.constant(u8(20))], { alpha: attrs.float(0.1) }) },
  { name: 'QLinearSoftmax (last axis)', input: [1, 3, 4, 4], out: { scale: 1 / 256, zeroPoint: 0 }, build: (b, q, s, z) => b.op1('com.microsoft.QLinearSoftmax', [q, s, z, b.constant(scalarF32(1 / 256)), b.constant(u8(0))], { axis: attrs.int(-1), opset: attrs.int(13) }) },
  {
    name: 'QLinearConv (int8 weights, int32 bias)',
    input: [1, 3, 5, 5],
    out: { scale: 4 / 255, zeroPoint: 128 },
    build: (b, q, s, z) =>
      b.op1('onnx.QLinearConv', [q, s, z, b.constant(integers('int8', [4, 3, 3, 3], 97, -127, 127)), b.constant(scalarF32(0.004)), b.constant(i8(0)), b.constant(scalarF32(4 / 255)), b.constant(u8(128)), b.constant(integers('int32', [4], 98, -500, 500))], { pads: attrs.ints([1, 1, 1, 1]) }),
  },
  { name: 'QLinearMatMul (int8 B)', input: [1, 2, 6], out: { scale: 3 / 255, zeroPoint: 128 }, build: (b, q, s, z) => b.op1('onnx.QLinearMatMul', [q, s, z, b.constant(integers('int8', [6, 5], 99, -127, 127)), b.constant(scalarF32(0.01)), b.constant(i8(0)), b.constant(scalarF32(3 / 255)), b.constant(u8(128))]) },
  {
    name: 'QGemm (transB, int32 bias)',
    input: [2, 6],
    out: { scale: 3 / 255, zeroPoint: 128 },
    build: (b, q, s, z) => b.op1('com.microsoft.QGemm', [q, s, z, b.constant(integers('int8', [5, 6], 100, -127, 127)), b.constant(scalarF32(0.01)), b.constant(i8(0)), b.constant(integers('int32', [5], 101, -300, 300)), b.constant(scalarF32(3 / 255)), b.constant(u8(128))], { transB: attrs.int(1) }),
  },
];

function qoperatorModel(testCase: QOperatorCase): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', testCase.input));
  const [scale, zero] = [b.constant(scalarF32(IN_SCALE)), b.constant(u8(128))];
  const q = b.op1('onnx.QuantizeLinear', [x, scale, zero]);
  const y = testCase.build(b, q, scale, zero);
  b.output(b.op1('onnx.DequantizeLinear', [y, b.constant(scalarF32(testCase.out.scale)), b.constant(u8(testCase.out.zeroPoint))]));
  const model = b.model({ onnx: 17, 'com.microsoft': 1 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

describe('legalize-tflite, integer-op forms as float arithmetic with the same integers: TFLite runtime equal to ONNX Runtime', () => {
  for (const testCase of INTEGER_CASES) it(testCase.name, () => expectConverts(testCase));
});

describe('legalize-tflite, QOperator forms (QLinear*, QGemm) → int8 TFLite within one output step of ONNX Runtime', () => {
  for (const testCase of QOPERATOR_CASES) {
    it(testCase.name, async () => {
      const original = qoperatorModel(testCase);
      const converted = qoperatorModel(testCase);
      await legalize(converted, `optimize=false${testCase.options ? ` ${testCase.options}` : ''}`);
      expect(converted.graph.nodeList().filter((node) => !node.op.startsWith('tflite.')).map((node) => node.op)).toEqual([]);
      const [difference] = await compareInRuntimes(original, converted, feedsFor(original, 7));
      expect(difference).toBeLessThanOrEqual(Math.fround(testCase.out.scale) * 1.001);
    });
  }
});

const LOSS_CASES: OpCase[] = [
  ...(['none', 'sum', 'mean'] as const).map((reduction): OpCase => ({
    name: `NegativeLogLikelihoodLoss reduction=${reduction}, class weights`,
    input: [4, 5],
    range: [-3, 0],
    opset: 13,
    build: (b, x) => b.op1('onnx.NegativeLogLikelihoodLoss', [x, b.constant(i64([0, 4, 2, 4])), b.constant(f32([5], 110, 0.5, 2))], { reduction: attrs.string(reduction) }),
  })),
  {
    name: 'NegativeLogLikelihoodLoss [N, C, d] mean, ignore_index inside the classes',
    input: [2, 4, 3],
    range: [-3, 0],
    opset: 13,
    build: (b, x) => b.op1('onnx.NegativeLogLikelihoodLoss', [x, b.constant(i64([1, 3, 1, 0, 2, 1], [2, 3]))], { ignore_index: attrs.int(1) }),
  },
  {
    name: 'NegativeLogLikelihoodLoss sum, ignore_index -1 (outside the classes)',
    input: [3, 4],
    range: [-3, 0],
    opset: 13,
    build: (b, x) => b.op1('onnx.NegativeLogLikelihoodLoss', [x, b.constant(i64([-1, 3, 2])), b.constant(f32([4], 111, 0.5, 2))], { ignore_index: attrs.int(-1), reduction: attrs.string('sum') }),
  },
  {
    name: 'SoftmaxCrossEntropyLoss mean with log_prob output',
    input: [3, 5],
    range: [-3, 3],
    opset: 13,
    build: (b, x) => b.op('onnx.SoftmaxCrossEntropyLoss', [x, b.constant(i64([4, 0, 2]))], {}, { outputs: 2 }),
  },
  {
    name: 'SoftmaxCrossEntropyLoss [N, C, d1, d2] none, weights, ignore_index',
    input: [2, 3, 2, 2],
    range: [-3, 3],
    opset: 13,
    build: (b, x) => b.op1('onnx.SoftmaxCrossEntropyLoss', [x, b.constant(i64([0, 2, 1, 2, 2, 1, 0, 0], [2, 2, 2])), b.constant(f32([3], 112, 0.5, 2))], { reduction: attrs.string('none'), ignore_index: attrs.int(2) }),
  },
];

describe('legalize-tflite, losses: TFLite runtime within 1e-4 of ONNX Runtime', () => {
  for (const testCase of LOSS_CASES) it(testCase.name, () => expectConverts(testCase));
});

describe('legalize-tflite refuses string processing and image decoding per node', () => {
  it('names each node and why', async () => {
    const b = new GraphBuilder();
    const text = b.input('text', tensorType('string', [2]));
    const tokens = b.input('tokens', tensorType('int64', [2, 6]));
    const bytes = b.input('bytes', tensorType('uint8', [64]));
    const normalized = b.op1('onnx.StringNormalizer', [text], { case_change_action: attrs.string('LOWER') }, { name: 'normalize' });
    const joined = b.op1('onnx.StringConcat', [normalized, text], {}, { name: 'join' });
    const [parts] = b.op('onnx.StringSplit', [joined], {}, { outputs: 2, name: 'split_words' });
    const matched = b.op1('onnx.RegexFullMatch', [text], { pattern: attrs.string('a.*') }, { name: 'regex' });
    const counts = b.op1('onnx.TfIdfVectorizer', [tokens], { mode: attrs.string('TF'), min_gram_length: attrs.int(1), max_gram_length: attrs.int(1), max_skip_count: attrs.int(0), ngram_counts: attrs.ints([0]), ngram_indexes: attrs.ints([0, 1]), pool_int64s: attrs.ints([2, 3]) }, { name: 'tfidf' });
    const image = b.op1('onnx.ImageDecoder', [bytes], {}, { name: 'decode' });
    b.output(parts!, matched, counts, image);
    const model = b.model({ onnx: 20 });
    await expectRefused(model, [
      /normalize.*StringNormalizer processes strings/,
      /join.*StringConcat processes strings/,
      /split_words.*StringSplit processes strings/,
      /regex.*RegexFullMatch processes strings/,
      /tfidf.*TfIdfVectorizer processes strings\/tokens/,
      /decode.*ImageDecoder decodes encoded image bytes/,
    ]);
  });
});

const MS_OPSETS = { 'com.microsoft': 1 };

const FUSED_CONV_CASES: OpCase[] = [
  ['Relu', []],
  ['LeakyRelu', [0.2]],
  ['Clip', [-0.3, 0.4]],
  ['HardSigmoid', [0.3, 0.4]],
  ['Sigmoid', []],
].map(([activation, params]): OpCase => ({
  name: `com.microsoft FusedConv activation=${String(activation)}${(params as number[]).length ? ` params=${String(params)}` : ''}`,
  input: [1, 3, 6, 6],
  domains: MS_OPSETS,
  build: (b, x) =>
    b.op1('com.microsoft.FusedConv', [x, b.constant(f32([4, 3, 3, 3], 120)), b.constant(f32([4], 121))], {
      activation: attrs.string(activation as string),
      ...((params as number[]).length ? { activation_params: attrs.floats(params as number[]) } : {}),
      pads: attrs.ints([1, 1, 1, 1]),
    }),
}));
FUSED_CONV_CASES.push({
  name: 'com.microsoft FusedConv with the sum input Z, stride 2, no activation',
  input: [1, 3, 6, 6],
  domains: MS_OPSETS,
  build: (b, x) => b.op1('com.microsoft.FusedConv', [x, b.constant(f32([2, 3, 3, 3], 122)), null, b.constant(f32([1, 2, 2, 2], 123))], { strides: attrs.ints([2, 2]) }),
});

/** com.microsoft GroupNorm (NHWC) and its meaning in ONNX ops (NCHW GroupNormalization-21 between transposes), which ORT runs as the referee (its CPU build has no GroupNorm kernel). */
function groupNormModels(silu: boolean): { ms: Model; referee: Model } {
  const gamma = f32([6], 124, 0.5, 1.5);
  const beta = f32([6], 125);
  const build = (useMs: boolean): Model => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 3, 4, 6]));
    let y: Value;
    if (useMs) {
      y = b.op1('com.microsoft.GroupNorm', [x, b.constant(gamma), b.constant(beta)], { groups: attrs.int(3), activation: attrs.int(silu ? 1 : 0), epsilon: attrs.float(1e-5), channels_last: attrs.int(1) });
    } else {
      const nchw = b.op1('onnx.Transpose', [x], { perm: attrs.ints([0, 3, 1, 2]) });
      const norm = b.op1('onnx.GroupNormalization', [nchw, b.constant(gamma), b.constant(beta)], { num_groups: attrs.int(3), epsilon: attrs.float(1e-5) });
      y = b.op1('onnx.Transpose', [norm], { perm: attrs.ints([0, 2, 3, 1]) });
      if (silu) y = b.op1('onnx.Mul', [y, b.op1('onnx.Sigmoid', [y])]);
    }
    b.output(y);
    const model = b.model({ onnx: 21, ...MS_OPSETS });
    inferShapes(model, { mode: 'refresh' });
    return model;
  };
  return { ms: build(true), referee: build(false) };
}

describe('legalize-tflite, com.microsoft fusions spelled as ONNX ops: TFLite runtime within 1e-4 of ONNX Runtime', () => {
  for (const testCase of FUSED_CONV_CASES) it(testCase.name, () => expectConverts(testCase));

  for (const silu of [false, true]) {
    it(`com.microsoft GroupNorm (NHWC, 3 groups${silu ? ', SiLU' : ''}) against ORT's GroupNormalization-21`, async () => {
      const { ms, referee } = groupNormModels(silu);
      await legalize(ms, 'optimize=false');
      expect(ms.graph.nodeList().filter((node) => !node.op.startsWith('tflite.')).map((node) => node.op)).toEqual([]);
      const [difference] = await compareInRuntimes(referee, ms, feedsFor(referee, 7, [-2, 3]));
      expect(difference).toBeLessThanOrEqual(1e-4);
    });
  }
});

const hann = (n: number): Tensor => Tensor.fromValues('float32', [n], Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n)));

const SPECTRAL_CASES: OpCase[] = [
  { name: 'DFT opset 17, real signal, axis 1', input: [2, 8, 1], opset: 17, build: (b, x) => b.op1('onnx.DFT', [x], { axis: attrs.int(1) }) },
  { name: 'DFT opset 17, complex signal, inverse', input: [2, 6, 2], opset: 17, build: (b, x) => b.op1('onnx.DFT', [x], { axis: attrs.int(1), inverse: attrs.int(1) }) },
  { name: 'DFT opset 17, onesided, dft_length 10 (zero-padded)', input: [1, 8, 1], opset: 17, build: (b, x) => b.op1('onnx.DFT', [x, b.constant(scalarI64(10))], { axis: attrs.int(1), onesided: attrs.int(1) }) },
  { name: 'DFT opset 17, dft_length 5 (truncated), complex', input: [1, 8, 2], opset: 17, build: (b, x) => b.op1('onnx.DFT', [x, b.constant(scalarI64(5))], { axis: attrs.int(1) }) },
  { name: 'DFT opset 20, axis input 1 of [2, 6, 3, 1] (moved by TRANSPOSE)', input: [2, 6, 3, 1], opset: 20, build: (b, x) => b.op1('onnx.DFT', [x, null, b.constant(scalarI64(1))]) },
  { name: 'DFT opset 20, default axis −2, complex, inverse', input: [2, 3, 8, 2], opset: 20, build: (b, x) => b.op1('onnx.DFT', [x], { inverse: attrs.int(1) }) },
  { name: 'STFT with a Hann window, step 4 (onesided)', input: [2, 32, 1], opset: 17, build: (b, x) => b.op1('onnx.STFT', [x, b.constant(scalarI64(4)), b.constant(hann(8))]) },
  { name: 'STFT of a complex signal, frame_length 6, step 3, two-sided', input: [1, 20, 2], opset: 17, build: (b, x) => b.op1('onnx.STFT', [x, b.constant(scalarI64(3)), null, b.constant(scalarI64(6))], { onesided: attrs.int(0) }) },
];

describe('legalize-tflite, DFT and STFT as FULLY_CONNECTED by a DFT matrix: TFLite runtime within 1e-4 of ONNX Runtime', () => {
  for (const testCase of SPECTRAL_CASES) it(testCase.name, () => expectConverts(testCase));

  it('DFT/STFT reference kernels of the canonical op set agree with ONNX Runtime within 1e-5', async () => {
    for (const testCase of SPECTRAL_CASES) {
      const model = buildCase(testCase);
      const feeds = feedsFor(model, 7);
      const expected = await runOrt(model, feeds);
      const actual = runReference(model, feeds);
      for (const output of model.graph.outputs) expect(maxAbsDifference(expected.get(output.name)!, actual.get(output.name) as Tensor), testCase.name).toBeLessThanOrEqual(1e-5);
    }
  });
});

/** cos/sin caches of `positions` rows × `half` angles (θ = p / 10000^(2i/d)). */
function rotaryCaches(positions: number, half: number): [Tensor, Tensor] {
  const angles = Array.from({ length: positions * half }, (_, j) => Math.floor(j / half) / 10000 ** ((j % half) / half));
  return [Tensor.fromValues('float32', [positions, half], angles.map(Math.cos)), Tensor.fromValues('float32', [positions, half], angles.map(Math.sin))];
}

const ATTENTION_CASES: OpCase[] = [
  {
    name: 'RotaryEmbedding 4-D [B, H, S, D], position_ids, all features',
    input: [2, 2, 3, 8],
    opset: 23,
    build: (b, x) => {
      const [cos, sin] = rotaryCaches(6, 4);
      return b.op1('onnx.RotaryEmbedding', [x, b.constant(cos), b.constant(sin), b.constant(i64([0, 1, 2, 3, 4, 5], [2, 3]))]);
    },
  },
  {
    name: 'RotaryEmbedding 3-D with num_heads, interleaved, rotary_embedding_dim 4 of 6',
    input: [1, 3, 12],
    opset: 23,
    build: (b, x) => {
      const [cos, sin] = rotaryCaches(8, 2);
      return b.op1('onnx.RotaryEmbedding', [x, b.constant(cos), b.constant(sin), b.constant(i64([5, 1, 7], [1, 3]))], { num_heads: attrs.int(2), interleaved: attrs.int(1), rotary_embedding_dim: attrs.int(4) });
    },
  },
  {
    name: 'RotaryEmbedding without position_ids (cos/sin per [B, S])',
    input: [2, 1, 4, 4],
    opset: 23,
    build: (b, x) => {
      const [cos, sin] = rotaryCaches(8, 2);
      return b.op1('onnx.RotaryEmbedding', [x, b.constant(cos.reshape([2, 4, 2])), b.constant(sin.reshape([2, 4, 2]))]);
    },
  },
  { name: 'Attention 4-D self-attention (Q = K = V), default scale', input: [1, 2, 4, 8], opset: 23, build: (b, x) => b.op1('onnx.Attention', [x, x, x]) },
  {
    name: 'Attention 3-D, grouped K/V heads (4 query, 2 K/V), is_causal, scale',
    input: [2, 5, 16],
    opset: 23,
    build: (b, x) => {
      // K: 2 heads of 4 (hidden 8) computed from x; V: 2 heads of 6.
      const scaled = b.op1('onnx.Mul', [x, b.constant(f32([1, 1, 16], 130, 0.5, 1))]);
      const k = b.op1('onnx.Slice', [scaled, b.constant(i64([0])), b.constant(i64([8])), b.constant(i64([2]))]);
      const attributes = { q_num_heads: attrs.int(4), kv_num_heads: attrs.int(2), is_causal: attrs.int(1), scale: attrs.float(0.3) };
      return b.op1('onnx.Attention', [x, k, b.constant(f32([2, 5, 12], 131))], attributes);
    },
  },
  {
    name: 'Attention with a bool mask and softcap',
    input: [1, 2, 4, 8],
    opset: 23,
    build: (b, x) => b.op1('onnx.Attention', [x, b.constant(f32([1, 2, 4, 8], 132)), b.constant(f32([1, 2, 4, 6], 133)), b.constant(Tensor.fromValues('bool', [4, 4], [1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 1].map(Boolean)))], { softcap: attrs.float(2) }),
  },
  {
    name: 'Attention with a float mask, 4 queries over 6 keys',
    input: [2, 1, 4, 8],
    opset: 23,
    build: (b, x) => b.op1('onnx.Attention', [x, b.constant(f32([2, 1, 6, 8], 134)), b.constant(f32([2, 1, 6, 3], 135)), b.constant(f32([1, 1, 4, 6], 136, -2, 0))]),
  },
];

describe('legalize-tflite, transformer ops of opset 23: TFLite runtime within 1e-4 of ONNX Runtime', () => {
  for (const testCase of ATTENTION_CASES) it(testCase.name, () => expectConverts(testCase));

  it('the reference kernels agree with ONNX Runtime within 1e-5', async () => {
    for (const testCase of ATTENTION_CASES) {
      const model = buildCase(testCase);
      const feeds = feedsFor(model, 7);
      const expected = await runOrt(model, feeds);
      const actual = runReference(model, feeds);
      for (const output of model.graph.outputs) expect(maxAbsDifference(expected.get(output.name)!, actual.get(output.name) as Tensor), testCase.name).toBeLessThanOrEqual(1e-5);
    }
  });
});

const root = fileURLToPath(new URL('../../../../', import.meta.url));

describe('legalize-tflite on torch.onnx-exported sequence taggers (2-layer bidirectional LSTM, GRU)', () => {
  for (const cell of ['lstm', 'gru']) {
    it(`${cell} tagger: every node a tflite op, TFLite runtime within 1e-4 of ONNX Runtime`, async () => {
      const cache = join(root, '.fixtures-cache', 'recurrent-taggers');
      execFileSync('/usr/bin/python3', [join(root, 'tools/fixtures/make_recurrent_taggers.py'), '--out', cache], { stdio: 'pipe' });
      const original = readOnnx(join(cache, `${cell}_tagger.onnx`));
      const converted = readOnnx(join(cache, `${cell}_tagger.onnx`));
      expect(original.graph.nodeList().map((node) => node.op)).toContain(cell === 'lstm' ? 'onnx.LSTM' : 'onnx.GRU');
      await legalize(converted);
      expect(converted.graph.nodeList().filter((node) => !node.op.startsWith('tflite.')).map((node) => node.op)).toEqual([]);
      const [difference] = await compareInRuntimes(original, converted, feedsFor(original, 7, [-2, 2]));
      expect(difference).toBeLessThanOrEqual(1e-4);
    }, 120_000);
  }
});

describe('legalize-tflite refuses what the spectral and attention lowerings do not take, per node', () => {
  it('names the node and the reason', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [1, 2, 4, 8]));
    const signal = b.input('signal', tensorType('float32', [1, 16, 1]));
    const axis = b.input('axis', tensorType('int64', []));
    const step = b.input('step', tensorType('int64', []));
    const cached = b.op1('onnx.Attention', [x, x, x, null, b.constant(f32([1, 2, 3, 8], 140)), b.constant(f32([1, 2, 3, 8], 141))], {}, { name: 'kv_cache_attention' });
    const dft = b.op1('onnx.DFT', [signal, null, axis], {}, { name: 'runtime_axis_dft' });
    const stft = b.op1('onnx.STFT', [signal, step, b.constant(hann(4))], {}, { name: 'runtime_step_stft' });
    b.output(cached, dft, stft);
    const model = b.model({ onnx: 23 });
    inferShapes(model, { mode: 'refresh' });
    await expectRefused(model, [/kv_cache_attention.*past_key\/past_value \(a KV cache\) are not supported/, /runtime_axis_dft.*axis must be a constant/, /runtime_step_stft.*frame_step must be a positive constant/]);
  });
});
