import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType, type Attribute, type Dim, type Type } from '@modelpass/ir';
import { createOpRegistry, runReference, type RuntimeValue } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

/** Runs one op through the interpreter; `outputs` names the produced outputs (null: omitted). */
function runOp(op: string, inputs: readonly (Tensor | null)[], attributes: Record<string, Attribute>, outputs: readonly (string | null)[]): RuntimeValue[] {
  const b = new GraphBuilder();
  const values = inputs.map((t, i) => (t ? b.input(`in${i}`, tensorType(t.dtype, t.shape)) : null));
  const node = b.graph.createNode({ op, inputs: values, outputs: [...outputs], attributes });
  for (const value of node.outputs) if (value) b.output(value);
  const feeds: Record<string, Tensor> = {};
  inputs.forEach((t, i) => t && (feeds[`in${i}`] = t));
  const result = runReference(b.model({ onnx: 14 }), feeds);
  return node.outputs.map((v) => (v ? result.get(v.name)! : null));
}

const f32 = (shape: number[], values: number[]) => Tensor.fromValues('float32', shape, values);
const f64 = (shape: number[], values: number[]) => Tensor.fromValues('float64', shape, values);
const numbers = (v: RuntimeValue) => (v as Tensor).toNumbers();
const seeded = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function expectClose(actual: readonly number[], expected: readonly number[], tolerance = 1e-6) {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]!), `element ${i}: ${v} vs ${expected[i]}`).toBeLessThanOrEqual(tolerance));
}

describe('onnx.RNN', () => {
  it('computes Ht = tanh(Xt·W + Ht-1·R + Wb + Rb) step by step (hand-checked, hidden 1)', () => {
    const [y, yh] = runOp('onnx.RNN', [f64([2, 1, 1], [1, 2]), f64([1, 1, 1], [0.5]), f64([1, 1, 1], [0.25]), f64([1, 2], [0.1, 0.2])], { hidden_size: attrs.int(1) }, ['Y', 'Y_h']);
    const h1 = Math.tanh(0.5 * 1 + 0.1 + 0.2);
    const h2 = Math.tanh(0.5 * 2 + 0.25 * h1 + 0.3);
    expect((y as Tensor).shape).toEqual([2, 1, 1, 1]);
    expectClose(numbers(y), [h1, h2], 1e-15);
    expectClose(numbers(yh), [h2], 1e-15);
  });

  it('runs reverse from each sequence end, leaves Y zero past a length, and Y_h zero for length 0', () => {
    // batch of 3 with lengths 2, 3, 0; x values are the time index + 1; W=1, R=0: Ht = tanh(x).
    const x = f64([3, 3, 1], [1, 1, 1, 2, 2, 2, 3, 3, 3]);
    const lens = Tensor.fromValues('int32', [3], [2, 3, 0]);
    const [y, yh] = runOp('onnx.RNN', [x, f64([1, 1, 1], [1]), f64([1, 1, 1], [0]), null, lens, f64([1, 3, 1], [9, 9, 9])], { hidden_size: attrs.int(1), direction: attrs.string('reverse') }, ['Y', 'Y_h']);
    const t = Math.tanh;
    expectClose(numbers(y), [t(1), t(1), 0, t(2), t(2), 0, 0, t(3), 0], 1e-15);
    // Reverse: the last step processed is t=0, so Y_h is tanh(1) for lengths 2 and 3.
    expectClose(numbers(yh), [t(1), t(1), 0], 1e-15);
  });

  it('binds activation_alpha/beta in order to the activations that take them', () => {
    // Bidirectional: forward LeakyRelu (alpha 0.5), reverse HardSigmoid (alpha 0.25, beta 0.9).
    const [y] = runOp(
      'onnx.RNN',
      [f64([1, 1, 1], [-2]), f64([2, 1, 1], [1, 1]), f64([2, 1, 1], [0, 0])],
      { hidden_size: attrs.int(1), direction: attrs.string('bidirectional'), activations: attrs.strings(['LeakyRelu', 'HardSigmoid']), activation_alpha: attrs.floats([0.5, 0.25]), activation_beta: attrs.floats([0.9]) },
      ['Y'],
    );
    expectClose(numbers(y), [-1, Math.fround(0.25) * -2 + Math.fround(0.9)], 1e-7);
  });

  it('runs float16 tensors and returns float16 outputs', () => {
    const f16 = (shape: number[], values: number[]) => Tensor.fromValues('float16', shape, values);
    const [y] = runOp('onnx.RNN', [f16([1, 1, 1], [1]), f16([1, 1, 1], [0.5]), f16([1, 1, 1], [0.25])], { hidden_size: attrs.int(1) }, ['Y']);
    expect((y as Tensor).dtype).toBe('float16');
    expectClose(numbers(y), [Math.tanh(0.5)], 1e-3);
  });

  it('clips the activation input to [-clip, clip]', () => {
    const [, yh] = runOp('onnx.RNN', [f64([1, 1, 1], [5]), f64([1, 1, 1], [1]), f64([1, 1, 1], [0])], { hidden_size: attrs.int(1), clip: attrs.float(0.5), activations: attrs.strings(['Relu']) }, [null, 'Y_h']);
    expectClose(numbers(yh), [0.5]);
  });
});

/** A textbook LSTM in float64, layout 0, every sequence full length: the independent expectation. */
function textbookLstm(x: number[], [seq, batch, input]: number[], w: number[], r: number[], b: number[], p: number[], hidden: number, reverse: boolean, dir: number) {
  const H = hidden;
  const wAt = (gate: number, j: number, k: number) => w[(dir * 4 * H + gate * H + j) * input + k]!;
  const rAt = (gate: number, j: number, k: number) => r[(dir * 4 * H + gate * H + j) * H + k]!;
  const bAt = (gate: number, j: number) => b[dir * 8 * H + gate * H + j]! + b[dir * 8 * H + 4 * H + gate * H + j]!;
  const ys: number[][][] = [];
  const hs: number[][] = [];
  const cs: number[][] = [];
  for (let n = 0; n < batch; n++) {
    let h = new Array<number>(H).fill(0);
    let c = new Array<number>(H).fill(0);
    for (let s = 0; s < seq; s++) {
      const t = reverse ? seq - 1 - s : s;
      const gate = (g: number, j: number) => {
        let sum = bAt(g, j);
        for (let k = 0; k < input; k++) sum += x[(t * batch + n) * input + k]! * wAt(g, j, k);
        for (let k = 0; k < H; k++) sum += h[k]! * rAt(g, j, k);
        return sum;
      };
      const newC = c.map((cPrev, j) => {
        const i = sigmoid(gate(0, j) + p[dir * 3 * H + j]! * cPrev);
        const f = sigmoid(gate(2, j) + p[dir * 3 * H + 2 * H + j]! * cPrev);
        return f * cPrev + i * Math.tanh(gate(3, j));
      });
      h = newC.map((cNew, j) => sigmoid(gate(1, j) + p[dir * 3 * H + H + j]! * cNew) * Math.tanh(cNew));
      c = newC;
      (ys[t] ??= [])[n] = h;
    }
    hs[n] = h;
    cs[n] = c;
  }
  return { ys, hs, cs };
}

describe('onnx.LSTM', () => {
  it('matches a textbook LSTM, bidirectional with bias and peepholes (float64)', () => {
    const random = seeded(11);
    const [seq, batch, input, hidden] = [4, 2, 3, 5];
    const data = (n: number) => Array.from({ length: n }, random);
    const x = data(seq * batch * input);
    const w = data(2 * 4 * hidden * input);
    const r = data(2 * 4 * hidden * hidden);
    const b = data(2 * 8 * hidden);
    const p = data(2 * 3 * hidden);
    const [y, yh, yc] = runOp(
      'onnx.LSTM',
      [f64([seq, batch, input], x), f64([2, 4 * hidden, input], w), f64([2, 4 * hidden, hidden], r), f64([2, 8 * hidden], b), null, null, null, f64([2, 3 * hidden], p)],
      { hidden_size: attrs.int(hidden), direction: attrs.string('bidirectional') },
      ['Y', 'Y_h', 'Y_c'],
    );
    const forward = textbookLstm(x, [seq, batch, input], w, r, b, p, hidden, false, 0);
    const backward = textbookLstm(x, [seq, batch, input], w, r, b, p, hidden, true, 1);
    const expectedY: number[] = [];
    for (let t = 0; t < seq; t++) for (const run of [forward, backward]) for (let n = 0; n < batch; n++) expectedY.push(...run.ys[t]![n]!);
    expect((y as Tensor).shape).toEqual([seq, 2, batch, hidden]);
    expectClose(numbers(y), expectedY, 1e-12);
    expectClose(numbers(yh), [...forward.hs.flat(), ...backward.hs.flat()], 1e-12);
    expectClose(numbers(yc), [...forward.cs.flat(), ...backward.cs.flat()], 1e-12);
  });

  it('couples the forget gate to the input gate with input_forget (hand-checked, hidden 1)', () => {
    // W rows i, o, f, c; R = 0; X = 1: i = σ(0.5), o = σ(1), f = 1 - i, c = tanh(0.3); C0 = 2.
    const [yh, yc] = runOp(
      'onnx.LSTM',
      [f64([1, 1, 1], [1]), f64([1, 4, 1], [0.5, 1, 7, 0.3]), f64([1, 4, 1], [0, 0, 0, 0]), null, null, null, f64([1, 1, 1], [2])],
      { hidden_size: attrs.int(1), input_forget: attrs.int(1) },
      [null, 'Y_h', 'Y_c'],
    ).slice(1);
    const i = sigmoid(0.5);
    const c = (1 - i) * 2 + i * Math.tanh(0.3);
    expectClose(numbers(yc), [c], 1e-15);
    expectClose(numbers(yh), [sigmoid(1) * Math.tanh(c)], 1e-15);
  });

  it('reads and writes layout 1 as the transpose of layout 0', () => {
    const random = seeded(5);
    const [seq, batch, input, hidden] = [3, 2, 2, 3];
    const x0 = Array.from({ length: seq * batch * input }, random);
    const w = f32([1, 4 * hidden, input], Array.from({ length: 4 * hidden * input }, random));
    const r = f32([1, 4 * hidden, hidden], Array.from({ length: 4 * hidden * hidden }, random));
    const h0 = Array.from({ length: batch * hidden }, random);
    const x1: number[] = [];
    for (let n = 0; n < batch; n++) for (let t = 0; t < seq; t++) x1.push(...x0.slice((t * batch + n) * input, (t * batch + n + 1) * input));
    const [y0, yh0] = runOp('onnx.LSTM', [f32([seq, batch, input], x0), w, r, null, null, f32([1, batch, hidden], h0)], { hidden_size: attrs.int(hidden) }, ['Y', 'Y_h']);
    const [y1, yh1] = runOp('onnx.LSTM', [f32([batch, seq, input], x1), w, r, null, null, f32([batch, 1, hidden], h0)], { hidden_size: attrs.int(hidden), layout: attrs.int(1) }, ['Y', 'Y_h']);
    expect((y1 as Tensor).shape).toEqual([batch, seq, 1, hidden]);
    const transposed: number[] = [];
    const y0v = numbers(y0);
    for (let n = 0; n < batch; n++) for (let t = 0; t < seq; t++) transposed.push(...y0v.slice((t * batch + n) * hidden, (t * batch + n + 1) * hidden));
    expect(numbers(y1)).toEqual(transposed);
    expect(numbers(yh1)).toEqual(numbers(yh0));
  });

  it('rejects malformed operands with a located ModelpassError', () => {
    const x = f32([1, 1, 2], [1, 2]);
    const good = { w: f32([1, 4, 2], new Array(8).fill(0)), r: f32([1, 4, 1], new Array(4).fill(0)) };
    const attempt = (inputs: (Tensor | null)[], attributes: Record<string, Attribute>) => {
      try {
        runOp('onnx.LSTM', inputs, { hidden_size: attrs.int(1), ...attributes }, ['Y']);
      } catch (error) {
        expect(error).toBeInstanceOf(ModelpassError);
        return String((error as Error).message);
      }
      return 'no error';
    };
    expect(attempt([x, f32([1, 4, 3], new Array(12).fill(0)), good.r], {})).toMatch(/input W has shape \[1, 4, 3\]/);
    expect(attempt([x, good.w, good.r], { activations: attrs.strings(['Sigmoid', 'Tanh']) })).toMatch(/needs 3 activations/);
    expect(attempt([x, good.w, good.r], { activations: attrs.strings(['Sigmoid', 'Tanh', 'Swish']) })).toMatch(/unknown activation 'Swish'/);
    expect(attempt([x, good.w, good.r, null, Tensor.fromValues('int32', [1], [2])], {})).toMatch(/sequence_lens\[0\] is 2/);
    expect(attempt([x, good.w, good.r, null, null, null, null, f32([1, 2], [0, 0])], {})).toMatch(/input P/);
  });
});

describe('onnx.GRU', () => {
  it('applies the reset gate before or after the recurrent product (hand-checked, hidden 1)', () => {
    // W rows z, r, h = 0.2, 0.4, 0.6; R rows = 0.3, 0.5, 0.7; X = 1; H0 = 0.8; Rbh = 0.1.
    const inputs = [f64([1, 1, 1], [1]), f64([1, 3, 1], [0.2, 0.4, 0.6]), f64([1, 3, 1], [0.3, 0.5, 0.7]), f64([1, 6], [0, 0, 0, 0, 0, 0.1]), null, f64([1, 1, 1], [0.8])];
    const z = sigmoid(0.2 + 0.3 * 0.8);
    const r = sigmoid(0.4 + 0.5 * 0.8);
    const before = Math.tanh(0.6 + 0.7 * (r * 0.8) + 0.1);
    const after = Math.tanh(0.6 + r * (0.7 * 0.8 + 0.1));
    const [plain] = runOp('onnx.GRU', inputs, { hidden_size: attrs.int(1) }, [null, 'Y_h']).slice(1);
    const [linear] = runOp('onnx.GRU', inputs, { hidden_size: attrs.int(1), linear_before_reset: attrs.int(1) }, [null, 'Y_h']).slice(1);
    expectClose(numbers(plain), [(1 - z) * before + z * 0.8], 1e-15);
    expectClose(numbers(linear), [(1 - z) * after + z * 0.8], 1e-15);
  });
});

describe('recurrent type inference', () => {
  function infer(op: string, inputTypes: (Type | null)[], attributes: Record<string, Attribute>, outputs: number) {
    const b = new GraphBuilder();
    const values = inputTypes.map((type, i) => (type ? b.input(`in${i}`, type) : null));
    const node = b.node(op, values, attributes, { outputs });
    const model = b.model({ onnx: 14 });
    return createOpRegistry().inferNode(node, model)!.map((type) => (type && type.kind === 'tensor' ? type.shape : type));
  }
  const t = (shape: Dim[] | null) => tensorType('float32', shape);

  it('keeps symbolic dims and follows direction and layout', () => {
    expect(infer('onnx.LSTM', [t(['T', 'N', 8]), t([2, 64, 8]), t([2, 64, 16])], { hidden_size: attrs.int(16), direction: attrs.string('bidirectional') }, 3)).toEqual([
      ['T', 2, 'N', 16],
      [2, 'N', 16],
      [2, 'N', 16],
    ]);
    expect(infer('onnx.GRU', [t(['N', 'T', 8]), t([1, 12, 8]), t([1, 12, 4])], { layout: attrs.int(1) }, 2)).toEqual([
      ['N', 'T', 1, 4],
      ['N', 1, 4],
    ]);
  });

  it('takes the batch from initial_h and hidden_size from W when X and the attribute do not say', () => {
    expect(infer('onnx.RNN', [t([null, null, null]), t([1, 6, 3]), null, null, null, t([1, 2, 6])], {}, 2)).toEqual([
      [null, 1, 2, 6],
      [1, 2, 6],
    ]);
  });
});
