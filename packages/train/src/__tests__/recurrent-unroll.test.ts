/**
 * LSTM and GRU unrolled for training: the unrolled graph equals ONNX Runtime's own LSTM/GRU kernels
 * (forward, reverse, bidirectional; with and without bias and initial states; GRU both
 * linear_before_reset forms; with sequence_lens), and its gradients equal central finite differences
 * (float64 reference interpreter) for X, W, R, B and the initial states.
 */
import { attrs, GraphBuilder, Tensor, type Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { runOrt } from '@modelpass/runtime';
import { buildGradientGraph, unrollRecurrent } from '@modelpass/train';
import { describe, expect, it } from 'vitest';
import { gradCheck, randomTensor, seeded } from './gradcheck.js';

interface RnnCase {
  readonly op: 'LSTM' | 'GRU';
  readonly direction: 'forward' | 'reverse' | 'bidirectional';
  readonly bias: boolean;
  readonly initial: boolean;
  readonly linearBeforeReset?: 0 | 1;
  /** sequence_lens, one per batch entry (N = 2). */
  readonly lengths?: readonly number[];
}

const [S, N, I, H] = [3, 2, 3, 4];

function rnnFeeds(c: RnnCase, dtype: 'float32' | 'float64', seed: number): Record<string, Tensor> {
  const rng = seeded(seed);
  const dirs = c.direction === 'bidirectional' ? 2 : 1;
  const gates = c.op === 'LSTM' ? 4 : 3;
  const t = (shape: number[]) => {
    const values = randomTensor(rng, shape, 0.6).toNumbers();
    return Tensor.fromValues(dtype, shape, dtype === 'float32' ? Float32Array.from(values) : values);
  };
  return {
    x: t([S, N, I]), w: t([dirs, gates * H, I]), r: t([dirs, gates * H, H]),
    ...(c.bias ? { b: t([dirs, 2 * gates * H]) } : {}),
    ...(c.initial ? { h0: t([dirs, N, H]), ...(c.op === 'LSTM' ? { c0: t([dirs, N, H]) } : {}) } : {}),
    ...(c.lengths ? { lens: Tensor.fromValues('int32', [N], Int32Array.from(c.lengths)) } : {}),
  };
}

function rnn(b: GraphBuilder, c: RnnCase, dtype: 'float32' | 'float64', outputs: 'all' | 'y') {
  const feeds = rnnFeeds(c, dtype, 1);
  const input = (name: string) => (feeds[name] ? b.input(name, { kind: 'tensor', dtype: feeds[name]!.dtype, shape: [...feeds[name]!.shape] }) : null);
  const inputs = [input('x'), input('w'), input('r'), input('b'), input('lens'), input('h0'), ...(c.op === 'LSTM' ? [input('c0')] : [])];
  while (inputs.at(-1) === null) inputs.pop();
  const count = c.op === 'LSTM' ? 3 : 2;
  const attributes = { hidden_size: attrs.int(H), direction: attrs.string(c.direction), ...(c.op === 'GRU' ? { linear_before_reset: attrs.int(c.linearBeforeReset ?? 0) } : {}) };
  const results = b.op(`onnx.${c.op}`, inputs, attributes, { outputs: count, name: 'rnn' });
  return outputs === 'all' ? results : [results[0]!];
}

const CASES: RnnCase[] = [
  { op: 'LSTM', direction: 'forward', bias: true, initial: true },
  { op: 'LSTM', direction: 'reverse', bias: false, initial: false },
  { op: 'LSTM', direction: 'bidirectional', bias: true, initial: false },
  { op: 'GRU', direction: 'forward', bias: true, initial: true, linearBeforeReset: 1 },
  { op: 'GRU', direction: 'forward', bias: true, initial: true, linearBeforeReset: 0 },
  { op: 'GRU', direction: 'bidirectional', bias: false, initial: true, linearBeforeReset: 1 },
  { op: 'GRU', direction: 'reverse', bias: true, initial: false, linearBeforeReset: 0 },
  { op: 'LSTM', direction: 'bidirectional', bias: true, initial: true, lengths: [2, 3] },
  { op: 'LSTM', direction: 'forward', bias: false, initial: false, lengths: [3, 1] },
  { op: 'GRU', direction: 'bidirectional', bias: true, initial: true, linearBeforeReset: 1, lengths: [1, 3] },
  { op: 'GRU', direction: 'reverse', bias: true, initial: false, linearBeforeReset: 0, lengths: [3, 2] },
];

const label = (c: RnnCase) => `${c.op} ${c.direction}${c.bias ? ' bias' : ''}${c.initial ? ' initial states' : ''}${c.op === 'GRU' ? ` linear_before_reset=${c.linearBeforeReset}` : ''}${c.lengths ? ` sequence_lens=[${c.lengths.join(',')}]` : ''}`;

describe('LSTM/GRU unrolled over time', () => {
  for (const c of CASES) {
    it(`${label(c)}: the unrolled graph equals ONNX Runtime's ${c.op} kernel`, async () => {
      const b = new GraphBuilder();
      for (const output of rnn(b, c, 'float32', 'all')) b.output(output!);
      const model: Model = b.model({ onnx: 17 });
      const unrolled = decodeOnnx(encodeOnnx(model));
      expect(unrollRecurrent(unrolled)).toBe(1);
      expect([...unrolled.graph.nodesOf(`onnx.${c.op}`)]).toHaveLength(0);
      const feeds = rnnFeeds(c, 'float32', 1);
      const [expected, actual] = await Promise.all([runOrt(model, feeds), runOrt(unrolled, feeds)]);
      expect([...actual.keys()]).toEqual([...expected.keys()]);
      for (const [name, tensor] of expected) {
        expect(actual.get(name)!.shape).toEqual(tensor.shape);
        const a = actual.get(name)!.toNumbers();
        expect(Math.max(...tensor.toNumbers().map((v, i) => Math.abs(v - a[i]!)))).toBeLessThan(1e-5);
      }
    });

    it(`${label(c)}: gradients match finite differences`, () => {
      const feeds = rnnFeeds(c, 'float64', 1);
      const result = gradCheck({ build: (b) => rnn(b, c, 'float64', 'y')[0]!, feeds, lossFeeds: { target: randomTensor(seeded(5), [S, c.direction === 'bidirectional' ? 2 : 1, N, H]) }, wrt: Object.keys(feeds).filter((name) => name !== 'lens') });
      expect(result.checked).toBeGreaterThan(50);
      expect(result.maxRelError).toBeLessThan(1e-5);
    });
  }

  it('refuses what it does not unroll, naming the node', () => {
    const b = new GraphBuilder();
    const c: RnnCase = { op: 'LSTM', direction: 'forward', bias: false, initial: false };
    const feeds = rnnFeeds(c, 'float64', 1);
    const [y] = b.op('onnx.LSTM', [b.input('x', { kind: 'tensor', dtype: 'float64', shape: [S, N, I] }), b.constant(feeds.w!, 'w'), b.constant(feeds.r!, 'r')], { hidden_size: attrs.int(H), clip: attrs.float(3) }, { outputs: 1, name: 'lstm1' });
    b.output(y!);
    expect(() => buildGradientGraph(b.model({ onnx: 17 }), { loss: { kind: 'mse' } })).toThrow(/LSTM 'lstm1': clip is not supported/);
  });
});
