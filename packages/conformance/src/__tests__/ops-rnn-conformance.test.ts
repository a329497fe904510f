/**
 * The recurrent ops of @modelpass/ops (onnx.RNN, onnx.GRU, onnx.LSTM) against two referees:
 *
 * 1. ONNX's node conformance cases `test_lstm_*`, `test_gru_*`, `test_rnn_*`, `test_simple_rnn_*`
 *    (libonnx-testdata), read with @modelpass/onnx, run with `runReference`, compared within rtol
 *    1e-3 / atol 1e-5; the inferred output shapes must agree with the expected outputs.
 * 2. ONNX Runtime on random single-node models built here, one per attribute combination
 *    (directions, sequence_lens, initial states, peepholes, clip, activations with alpha/beta,
 *    input_forget, linear_before_reset, omitted outputs, opsets 7/14/22). ONNX Runtime's CPU
 *    kernels refuse layout=1, so layout-1 nodes are checked against ORT running the layout-0 node
 *    between Transposes.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attrs, GraphBuilder, Tensor, tensorType, UNKNOWN_TYPE, type Attribute, type Model, type Value } from '@modelpass/ir';
import { decodeTensorProto, encodeOnnx, readOnnx } from '@modelpass/onnx';
import { inferShapes, runReference } from '@modelpass/ops';
import { compareOutputs, disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { afterAll, describe, expect, it } from 'vitest';

const NODE_CASES = '/usr/share/libonnx-testdata/data/node';
const TOLERANCE = { rtol: 1e-3, atol: 1e-5 };
/** ORT agreement expected of every random case: float32 rounding of a few steps. */
const TIGHT_TOLERANCE = { rtol: 1e-5, atol: 1e-6 };
const RECURRENT_CASE = /^test_(lstm|gru|rnn|simple_rnn)_/;

const summary: string[] = [];
afterAll(async () => {
  await disposeSharedOrtRunner();
  if (summary.length > 0) console.log(summary.join('\n'));
});

function asTensors(outputs: ReadonlyMap<string, unknown>): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  for (const [name, value] of outputs) if (value instanceof Tensor) tensors.set(name, value);
  return tensors;
}

describe('ONNX node conformance cases for RNN, GRU, LSTM', () => {
  const cases = existsSync(NODE_CASES) ? readdirSync(NODE_CASES).filter((name) => RECURRENT_CASE.test(name)).sort() : [];

  it('runs every recurrent case within tolerance, with consistent inferred shapes', () => {
    if (cases.length === 0) throw new Error(`no recurrent cases under ${NODE_CASES}: run 'npm run setup' (installs Debian's libonnx-testdata)`);
    const failures: string[] = [];
    let maxAbs = 0;
    for (const name of cases) {
      const dir = join(NODE_CASES, name);
      const model = readOnnx(join(dir, 'model.onnx'));
      const data = join(dir, 'test_data_set_0');
      const feeds = new Map<string, Tensor>();
      model.graph.inputs.forEach((input, i) => {
        const file = join(data, `input_${i}.pb`);
        if (existsSync(file)) feeds.set(input.name, decodeTensorProto(readFileSync(file)));
      });
      const expected = new Map(model.graph.outputs.map((output, i) => [output.name, decodeTensorProto(readFileSync(join(data, `output_${i}.pb`)))]));
      const report = compareOutputs(expected, asTensors(runReference(model, feeds)), TOLERANCE);
      maxAbs = Math.max(maxAbs, report.maxAbsError);
      if (!report.withinTolerance) failures.push(`${name}: max abs error ${report.maxAbsError}`);
      // Shape inference from the inputs alone must give the expected shapes exactly.
      for (const node of model.graph.allNodes()) for (const output of node.outputs) if (output) output.type = UNKNOWN_TYPE;
      inferShapes(model);
      for (const output of model.graph.outputs) {
        const want = expected.get(output.name)!;
        const got = output.type;
        const same = got.kind === 'tensor' && got.dtype === want.dtype && got.shape !== null && got.shape.join(',') === want.shape.join(',');
        if (!same) failures.push(`${name}: output ${output.name} inferred ${JSON.stringify(got)}, expected ${want.dtype}[${want.shape.join(',')}]`);
      }
    }
    summary.push(`rnn node conformance: ${cases.length - failures.length}/${cases.length} cases pass (rtol ${TOLERANCE.rtol}, atol ${TOLERANCE.atol}), max abs error ${maxAbs.toExponential(2)}`);
    expect(failures).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(12);
  });
});

// ---- Random models against ONNX Runtime ---------------------------------------------------------

type RecurrentOp = 'RNN' | 'GRU' | 'LSTM';
type OutputName = 'Y' | 'Y_h' | 'Y_c';

interface RecurrentCase {
  readonly name: string;
  readonly op: RecurrentOp;
  readonly seq: number;
  readonly batch: number;
  readonly input: number;
  readonly hidden: number;
  readonly direction?: 'forward' | 'reverse' | 'bidirectional';
  readonly layout?: 0 | 1;
  readonly bias?: boolean;
  readonly seqLens?: readonly number[];
  readonly initialH?: boolean;
  readonly initialC?: boolean;
  readonly peepholes?: boolean;
  readonly clip?: number;
  readonly activations?: readonly string[];
  readonly alphas?: readonly number[];
  readonly betas?: readonly number[];
  readonly inputForget?: boolean;
  readonly linearBeforeReset?: boolean;
  /** Outputs the node produces (others omitted); default all. */
  readonly outputs?: readonly OutputName[];
  readonly opset?: number;
  /**
   * activation_alpha/beta for the ORT model only: ONNX Runtime defaults the parameters of Affine,
   * ThresholdedRelu and ScaledTanh to 0 instead of the ONNX operators' defaults, so a case that
   * relies on defaults gives ORT the ONNX default values explicitly.
   */
  readonly ortParameters?: { readonly alphas: readonly number[]; readonly betas: readonly number[] };
  /** Input scale (larger values drive the gates into saturation). */
  readonly scale?: number;
}

const GATES: Record<RecurrentOp, number> = { RNN: 1, GRU: 3, LSTM: 4 };

function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

function randomTensor(next: () => number, shape: readonly number[], scale: number): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromValues('float32', shape, Array.from({ length: count }, () => (next() * 2 - 1) * scale));
}

interface BuiltCase {
  readonly reference: Model;
  readonly ort: Model;
  readonly feeds: Map<string, Tensor>;
}

/** The node's attributes for a case. */
function caseAttributes(test: RecurrentCase, layout: 0 | 1, forOrt: boolean): Record<string, Attribute> {
  const attributes: Record<string, Attribute> = { hidden_size: attrs.int(test.hidden) };
  if (test.direction) attributes.direction = attrs.string(test.direction);
  if (layout === 1) attributes.layout = attrs.int(1);
  if (test.clip !== undefined) attributes.clip = attrs.float(test.clip);
  if (test.activations) attributes.activations = attrs.strings([...test.activations]);
  const alphas = forOrt && test.ortParameters ? test.ortParameters.alphas : test.alphas;
  const betas = forOrt && test.ortParameters ? test.ortParameters.betas : test.betas;
  if (alphas) attributes.activation_alpha = attrs.floats([...alphas]);
  if (betas) attributes.activation_beta = attrs.floats([...betas]);
  if (test.inputForget) attributes.input_forget = attrs.int(1);
  if (test.linearBeforeReset) attributes.linear_before_reset = attrs.int(1);
  return attributes;
}

/**
 * Builds the case's model. With `forOrt` and layout 1, the node runs with layout 0 between
 * Transposes (X and initial states in, every output out), which is what layout 1 means.
 */
function buildModel(test: RecurrentCase, data: Map<string, Tensor>, forOrt: boolean): Model {
  const layout = test.layout ?? 0;
  const transposed = forOrt && layout === 1;
  const b = new GraphBuilder();
  const feed = (name: string): Value => b.input(name, tensorType(data.get(name)!.dtype, data.get(name)!.shape));
  const weight = (name: string): Value => b.constant(data.get(name)!, name);
  const toLayout0 = (value: Value, perm: number[]) => (transposed ? b.op1('onnx.Transpose', [value], { perm: attrs.ints(perm) }) : value);
  const x = toLayout0(feed('X'), [1, 0, 2]);
  const inputs: (Value | null)[] = [x, weight('W'), weight('R')];
  inputs.push(data.has('B') ? weight('B') : null);
  inputs.push(data.has('sequence_lens') ? feed('sequence_lens') : null);
  inputs.push(data.has('initial_h') ? toLayout0(feed('initial_h'), [1, 0, 2]) : null);
  if (test.op === 'LSTM') {
    inputs.push(data.has('initial_c') ? toLayout0(feed('initial_c'), [1, 0, 2]) : null);
    inputs.push(data.has('P') ? weight('P') : null);
  }
  while (inputs.length > 3 && inputs[inputs.length - 1] === null) inputs.pop();
  const all: OutputName[] = test.op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'];
  const wanted = test.outputs ?? all;
  const slots = all.map((name) => (wanted.includes(name) ? `${name}_raw` : null));
  while (slots.length > 0 && slots[slots.length - 1] === null) slots.pop();
  const node = b.graph.createNode({ op: `onnx.${test.op}`, inputs, outputs: slots, attributes: caseAttributes(test, transposed ? 0 : layout, forOrt) });
  node.outputs.forEach((value, i) => {
    if (!value) return;
    const perm = i === 0 ? [2, 0, 1, 3] : [1, 0, 2];
    const name = { outputs: [all[i]!] };
    const out = transposed ? b.op1('onnx.Transpose', [value], { perm: attrs.ints(perm) }, name) : b.op1('onnx.Identity', [value], {}, name);
    b.output(out);
  });
  const model = b.model({ onnx: test.opset ?? 14 });
  model.irVersion = 8;
  return model;
}

function buildCase(test: RecurrentCase, seed: number): BuiltCase {
  const next = random(seed);
  const gates = GATES[test.op];
  const dirs = test.direction === 'bidirectional' ? 2 : 1;
  const layout = test.layout ?? 0;
  const scale = test.scale ?? 1;
  const data = new Map<string, Tensor>();
  const { seq, batch, input, hidden } = test;
  data.set('X', randomTensor(next, layout === 0 ? [seq, batch, input] : [batch, seq, input], 2 * scale));
  data.set('W', randomTensor(next, [dirs, gates * hidden, input], 0.7 * scale));
  data.set('R', randomTensor(next, [dirs, gates * hidden, hidden], 0.7 * scale));
  if (test.bias) data.set('B', randomTensor(next, [dirs, 2 * gates * hidden], 0.5 * scale));
  if (test.seqLens) data.set('sequence_lens', Tensor.fromValues('int32', [batch], [...test.seqLens]));
  const stateShape = layout === 0 ? [dirs, batch, hidden] : [batch, dirs, hidden];
  if (test.initialH) data.set('initial_h', randomTensor(next, stateShape, 1));
  if (test.initialC) data.set('initial_c', randomTensor(next, stateShape, 1));
  if (test.peepholes) data.set('P', randomTensor(next, [dirs, 3 * hidden], 0.5));
  const feeds = new Map([...data].filter(([name]) => ['X', 'sequence_lens', 'initial_h', 'initial_c'].includes(name)));
  return { reference: buildModel(test, data, false), ort: buildModel(test, data, true), feeds };
}

const base = { seq: 5, batch: 3, input: 4, hidden: 6 } as const;
const everything = { bias: true, initialH: true, seqLens: [5, 2, 4] } as const;

const ORT_CASES: RecurrentCase[] = [
  // LSTM
  { name: 'LSTM forward defaults', op: 'LSTM', ...base },
  { name: 'LSTM forward, bias, initial states, peepholes', op: 'LSTM', ...base, bias: true, initialH: true, initialC: true, peepholes: true },
  { name: 'LSTM reverse with sequence_lens', op: 'LSTM', ...base, ...everything, direction: 'reverse', initialC: true },
  { name: 'LSTM bidirectional, sequence_lens, peepholes, clip', op: 'LSTM', ...base, ...everything, direction: 'bidirectional', initialC: true, peepholes: true, clip: 0.7, scale: 2 },
  { name: 'LSTM bidirectional input_forget', op: 'LSTM', ...base, bias: true, direction: 'bidirectional', inputForget: true, peepholes: true },
  { name: 'LSTM layout=1 bidirectional with sequence_lens, initial states, peepholes, clip', op: 'LSTM', ...base, ...everything, direction: 'bidirectional', layout: 1, initialC: true, peepholes: true, clip: 1.5 },
  { name: 'LSTM layout=1 reverse, Y_h only', op: 'LSTM', ...base, ...everything, direction: 'reverse', layout: 1, outputs: ['Y_h'] },
  { name: 'LSTM only Y_c', op: 'LSTM', ...base, bias: true, outputs: ['Y_c'] },
  { name: 'LSTM Y and Y_c (Y_h omitted)', op: 'LSTM', ...base, ...everything, outputs: ['Y', 'Y_c'] },
  { name: 'LSTM activations HardSigmoid/Elu/Softsign with alphas and betas', op: 'LSTM', ...base, bias: true, activations: ['HardSigmoid', 'Elu', 'Softsign'], alphas: [0.3, 0.8], betas: [0.4] },
  { name: 'LSTM bidirectional activations ScaledTanh/LeakyRelu/Affine, Sigmoid/Tanh/Softplus', op: 'LSTM', ...base, bias: true, direction: 'bidirectional', activations: ['Sigmoid', 'ScaledTanh', 'Affine', 'HardSigmoid', 'LeakyRelu', 'Softplus'], alphas: [0.9, 0.5, 0.25, 0.05], betas: [1.3, 0.2, 0.6] },
  { name: 'LSTM activations Relu/ThresholdedRelu', op: 'LSTM', ...base, bias: true, activations: ['Sigmoid', 'Relu', 'ThresholdedRelu'], alphas: [0.3] },
  { name: 'LSTM default alphas (LeakyRelu, HardSigmoid, Elu)', op: 'LSTM', ...base, bias: true, activations: ['HardSigmoid', 'LeakyRelu', 'Elu'] },
  {
    name: 'LSTM default parameters of Affine, ThresholdedRelu, ScaledTanh (ONNX operator defaults, given explicitly to ORT)',
    op: 'LSTM',
    ...base,
    bias: true,
    direction: 'bidirectional',
    activations: ['Affine', 'ThresholdedRelu', 'ScaledTanh', 'Sigmoid', 'Tanh', 'Affine'],
    ortParameters: { alphas: [1, 1, 1, 1], betas: [0, 1, 0] },
  },
  { name: 'LSTM large inputs (saturated gates)', op: 'LSTM', seq: 6, batch: 2, input: 64, hidden: 32, bias: true, initialH: true, initialC: true, scale: 40 },
  { name: 'GRU large inputs (saturated gates)', op: 'GRU', seq: 6, batch: 2, input: 64, hidden: 32, bias: true, initialH: true, scale: 40 },
  { name: 'LSTM wide (input 128, hidden 64), large cancelling sums', op: 'LSTM', seq: 16, batch: 4, input: 128, hidden: 64, bias: true, initialH: true, initialC: true, scale: 10 },
  { name: 'RNN Softsign, large inputs', op: 'RNN', seq: 6, batch: 2, input: 64, hidden: 32, bias: true, initialH: true, activations: ['Softsign'], scale: 40 },
  { name: 'LSTM opset 7, long sequence', op: 'LSTM', seq: 24, batch: 2, input: 3, hidden: 5, bias: true, initialH: true, initialC: true, opset: 7 },
  { name: 'LSTM opset 22 bidirectional', op: 'LSTM', ...base, ...everything, direction: 'bidirectional', opset: 22 },
  { name: 'LSTM sequence_lens with a zero length', op: 'LSTM', ...base, bias: true, initialH: true, initialC: true, seqLens: [5, 0, 3], direction: 'bidirectional' },
  // GRU
  { name: 'GRU forward defaults', op: 'GRU', ...base },
  { name: 'GRU forward linear_before_reset', op: 'GRU', ...base, bias: true, initialH: true, linearBeforeReset: true },
  { name: 'GRU reverse with sequence_lens', op: 'GRU', ...base, ...everything, direction: 'reverse' },
  { name: 'GRU bidirectional linear_before_reset, sequence_lens, clip', op: 'GRU', ...base, ...everything, direction: 'bidirectional', linearBeforeReset: true, clip: 0.8, scale: 2 },
  { name: 'GRU layout=1 bidirectional linear_before_reset', op: 'GRU', ...base, ...everything, direction: 'bidirectional', layout: 1, linearBeforeReset: true },
  { name: 'GRU layout=1 forward, Y only', op: 'GRU', ...base, bias: true, layout: 1, outputs: ['Y'] },
  { name: 'GRU activations HardSigmoid/Softsign, Sigmoid/ScaledTanh', op: 'GRU', ...base, bias: true, direction: 'bidirectional', activations: ['HardSigmoid', 'Softsign', 'Sigmoid', 'ScaledTanh'], alphas: [0.25, 0.8], betas: [0.45, 1.2] },
  { name: 'GRU activations Sigmoid/Elu, Softplus/LeakyRelu', op: 'GRU', ...base, bias: true, direction: 'bidirectional', activations: ['Sigmoid', 'Elu', 'Softplus', 'LeakyRelu'], alphas: [0.4, 0.1] },
  { name: 'GRU Y_h only, opset 7', op: 'GRU', ...base, ...everything, outputs: ['Y_h'], opset: 7 },
  { name: 'GRU opset 22 long sequence', op: 'GRU', seq: 20, batch: 2, input: 3, hidden: 4, bias: true, initialH: true, opset: 22 },
  // RNN
  { name: 'RNN forward defaults', op: 'RNN', ...base },
  { name: 'RNN reverse with bias and initial_h', op: 'RNN', ...base, ...everything, direction: 'reverse' },
  { name: 'RNN bidirectional, sequence_lens, clip', op: 'RNN', ...base, ...everything, direction: 'bidirectional', clip: 0.5, scale: 2 },
  { name: 'RNN layout=1 bidirectional', op: 'RNN', ...base, ...everything, direction: 'bidirectional', layout: 1 },
  { name: 'RNN activations Relu / LeakyRelu', op: 'RNN', ...base, bias: true, direction: 'bidirectional', activations: ['Relu', 'LeakyRelu'], alphas: [0.2] },
  { name: 'RNN activation Sigmoid, Y_h only', op: 'RNN', ...base, ...everything, activations: ['Sigmoid'], outputs: ['Y_h'] },
  { name: 'RNN opset 7 long sequence', op: 'RNN', seq: 30, batch: 2, input: 3, hidden: 4, bias: true, initialH: true, opset: 7 },
];

describe('RNN, GRU, LSTM against ONNX Runtime on random models', () => {
  const errors: string[] = [];
  afterAll(() => {
    if (errors.length > 0) summary.push(`rnn vs ONNX Runtime (rtol ${TOLERANCE.rtol}, atol ${TOLERANCE.atol}), max abs error per case:\n${errors.join('\n')}`);
  });

  ORT_CASES.forEach((test, index) => {
    it(test.name, async () => {
      const built = buildCase(test, 1000 + index);
      const expected = await runOrt(encodeOnnx(built.ort), built.feeds);
      const actual = asTensors(runReference(built.reference, built.feeds));
      const report = compareOutputs(expected, actual, TOLERANCE);
      errors.push(`  ${report.maxAbsError.toExponential(2)}  ${test.name}`);
      expect(report.missingOutputs).toEqual([]);
      expect(report.perOutput.filter((o) => !o.withinTolerance).map((o) => `${o.name}: max abs ${o.maxAbsError}`)).toEqual([]);
      // Beyond the conformance tolerance: agreement within float32 rounding.
      expect(compareOutputs(expected, actual, TIGHT_TOLERANCE).withinTolerance).toBe(true);
    });
  });
});
