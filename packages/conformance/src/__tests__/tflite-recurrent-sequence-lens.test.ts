/**
 * RNN/GRU/LSTM with sequence_lens shorter than the sequence (QA s12 and the README's "not done yet": refused as
 * 'sequence_lens computed at run time is not supported' or '… differs from the sequence length'): the unrolled steps
 * SELECT_V2 each row's new state and output by LESS(t, sequence_lens) (a constant mask when the lengths are constant),
 * so a row past its length keeps its state and outputs 0, a reversed direction starts at the row's own last step, and a
 * row of length 0 ends with Y_h = Y_c = 0 (ORT's answer, not its initial state). TFLite 2.9 vs ORT on Y, Y_h and Y_c
 * for forward, reverse and bidirectional, lengths given at run time (several feeds, 0 and full length included) or as
 * constants (ORT runs layout 0 only). A dynamic time axis stays refused by node (the sequence is unrolled to a static
 * length; the CLI's note names --input-shape).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { compareInRuntimes, expectRefused, legalize, seededTensor } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

const [T, B, C, H] = [5, 3, 4, 3];

interface Case {
  readonly name: string;
  readonly op: 'LSTM' | 'GRU' | 'RNN';
  readonly direction: 'forward' | 'reverse' | 'bidirectional';
  readonly layout: 0 | 1;
  /** Constant lengths, or undefined for a graph input `lens`. */
  readonly lengths?: number[];
}

function model(c: Case, time: number | string = T): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', c.layout === 0 ? [time, B, C] : [B, time, C]));
  const lens = c.lengths ? b.constant(Tensor.fromValues('int32', [B], c.lengths), 'lens') : b.input('lens', tensorType('int32', [B]));
  const gates = { LSTM: 4, GRU: 3, RNN: 1 }[c.op];
  const dirs = c.direction === 'bidirectional' ? 2 : 1;
  const inputs = [
    x,
    b.constant(seededTensor([dirs, gates * H, C], 1, -0.6, 0.6), 'w'),
    b.constant(seededTensor([dirs, gates * H, H], 2, -0.6, 0.6), 'r'),
    b.constant(seededTensor([dirs, 2 * gates * H], 3, -0.3, 0.3), 'b'),
    lens,
    b.constant(seededTensor(c.layout === 0 ? [dirs, B, H] : [B, dirs, H], 4, -0.5, 0.5), 'h0'),
  ];
  const outputs = c.op === 'LSTM' ? 3 : 2;
  const results = b.op(`onnx.${c.op}`, inputs, { hidden_size: attrs.int(H), direction: attrs.string(c.direction), layout: attrs.int(c.layout) }, { outputs });
  b.output(...results.map((v) => v!));
  const result = b.model({ onnx: 14 });
  inferShapes(result, { mode: 'refresh' });
  return result;
}

const CASES: Case[] = [
  { name: 'LSTM forward, run-time lengths', op: 'LSTM', direction: 'forward', layout: 0 },
  { name: 'LSTM bidirectional, run-time lengths', op: 'LSTM', direction: 'bidirectional', layout: 0 },
  { name: 'GRU reverse, run-time lengths', op: 'GRU', direction: 'reverse', layout: 0 },
  { name: 'RNN bidirectional, run-time lengths', op: 'RNN', direction: 'bidirectional', layout: 0 },
  { name: 'GRU bidirectional, constant lengths 5, 2, 3', op: 'GRU', direction: 'bidirectional', layout: 0, lengths: [5, 2, 3] },
  { name: 'LSTM forward, constant lengths 0, 4, 5', op: 'LSTM', direction: 'forward', layout: 0, lengths: [0, 4, 5] },
  { name: 'LSTM reverse, constant lengths 1, 3, 2 (steps 3 and 4 are nobody\'s)', op: 'LSTM', direction: 'reverse', layout: 0, lengths: [1, 3, 2] },
];

const RUN_TIME_LENGTHS = [
  [5, 2, 3],
  [0, 5, 1],
  [4, 4, 4],
];

describe('legalize-tflite: recurrences with sequence_lens', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const original = model(c);
      const converted = model(c);
      await legalize(converted, 'optimize=false');
      expect(converted.graph.nodeList().filter((node) => !node.op.startsWith('tflite.')).map((node) => node.op)).toEqual([]);
      const x = seededTensor(c.layout === 0 ? [T, B, C] : [B, T, C], 9, -1, 1);
      for (const lengths of c.lengths ? [undefined] : RUN_TIME_LENGTHS) {
        const feeds = lengths ? { x, lens: Tensor.fromValues('int32', [B], lengths) } : { x };
        const differences = await compareInRuntimes(original, converted, feeds);
        for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-5);
      }
    });
  }

  // (The CLI adds the --input-shape hint naming the symbolic dim; the pass names the node and why.)
  it('a dynamic time axis is refused by node', async () => {
    await expectRefused(model(CASES[0]!, 'time'), [/onnx\.LSTM/, /static rank-3 shape to unroll/]);
  });
});
