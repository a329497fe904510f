/**
 * torch exports `nn.LSTM(batch_first=True, bidirectional=True)` as a layout-0 ONNX LSTM between transposes:
 * X `[B,T,C]` → Transpose [1,0,2], Y `[T,dirs,B,H]` → Transpose [0,2,1,3] → Reshape `[T,B,dirs·H]` between layers
 * and → Transpose [2,0,1,3] → Reshape `[B,T,dirs·H]` at the end. The unrolled lowering left 4 TRANSPOSEs inside
 * (QA s12 5a). Now the steps are unpacked from X in its batch-major order and the steps/directions are PACKed in
 * the transposed order: no TRANSPOSE at all. TFLite runtime vs ORT.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { compareInRuntimes, feedsFor, legalize, seededTensor } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

const [B, T, C, H] = [2, 5, 3, 4];
const int64s = (values: number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

function lstmLayer(b: GraphBuilder, x: Value, input: number, seed: number, op: 'LSTM' | 'GRU'): Value {
  const gates = op === 'LSTM' ? 4 : 3;
  const w = b.constant(seededTensor([2, gates * H, input], seed, -0.5, 0.5), `w${seed}`);
  const r = b.constant(seededTensor([2, gates * H, H], seed + 1, -0.5, 0.5), `r${seed}`);
  const bias = b.constant(seededTensor([2, 2 * gates * H], seed + 2, -0.5, 0.5), `b${seed}`);
  return b.op(`onnx.${op}`, [x, w, r, bias], { hidden_size: attrs.int(H), direction: attrs.string('bidirectional') }, { outputs: 1 })[0]!;
}

/** x [B,T,C] → Transpose → bi-LSTM → Transpose, Reshape [T,B,2H] → bi-LSTM → Transpose, Reshape [B,T,2H]. */
function batchFirstNet(op: 'LSTM' | 'GRU'): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [B, T, C]));
  const seqFirst = b.op1('onnx.Transpose', [x], { perm: attrs.ints([1, 0, 2]) });
  const y1 = lstmLayer(b, seqFirst, C, 1, op);
  const between = b.op1('onnx.Reshape', [b.op1('onnx.Transpose', [y1], { perm: attrs.ints([0, 2, 1, 3]) }), b.constant(int64s([T, B, 2 * H]), 'mid_shape')]);
  const y2 = lstmLayer(b, between, 2 * H, 11, op);
  const out = b.op1('onnx.Reshape', [b.op1('onnx.Transpose', [y2], { perm: attrs.ints([2, 0, 1, 3]) }), b.constant(int64s([B, T, 2 * H]), 'out_shape')], {}, { name: 'y' });
  b.output(out);
  const model = b.model({ onnx: 14 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

describe('legalize-tflite: batch_first bidirectional recurrences keep no TRANSPOSE', () => {
  it.each(['LSTM', 'GRU'] as const)('2-layer bidirectional %s, batch_first', async (op) => {
    const original = batchFirstNet(op);
    const converted = batchFirstNet(op);
    const statistics = await legalize(converted);
    expect(converted.graph.nodeList().filter((node) => node.op === 'tflite.TRANSPOSE')).toHaveLength(0);
    expect(statistics.get('transposes-inside')).toBe(0);
    const differences = await compareInRuntimes(original, converted, feedsFor(original, 9));
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-5);
  });
});
