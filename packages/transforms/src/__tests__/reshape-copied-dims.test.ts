/**
 * reshape-copied-dims (in canonicalize, so in simplify): torch.onnx's "keep the batch dim" shape,
 * Concat(Unsqueeze(Gather(Shape(y), 0)), consts…), becomes a constant with 0 (copy the input's dim)
 * when shape inference proves y's dim is the Reshape input's dim at that place; ORT gives the same
 * outputs before and after for batch 1 and 3. A dim that is not proven equal is left alone.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { parseModel, Tensor, type Model } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { simplify } from '@modelpass/transforms';
import { randomTensor, runPass } from './helpers.js';

/** x[N,6,8] → Relu → Reshape to [batch of `source`, 6, 2, 4] → Transpose; `source` is %x or %other. */
function attention(source: '%x' | '%other', allowZero = false): Model {
  return parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[N,6,8], %other: float32[M,8]) {
  const %zero = tensor<int64[]> [0]
  const %axes = tensor<int64[1]> [0]
  const %rest = tensor<int64[3]> [6, 2, 4]
  %r = onnx.Relu(%x) name="relu"
  %shape = onnx.Shape(${source}) name="shape"
  %batch = onnx.Gather(%shape, %zero) {axis=0} name="gather"
  %batch1 = onnx.Unsqueeze(%batch, %axes) name="unsqueeze"
  %target = onnx.Concat(%batch1, %rest) {axis=0} name="concat"
  %heads = onnx.Reshape(%r, %target)${allowZero ? ' {allowzero=1}' : ''} name="reshape"
  %y = onnx.Transpose(%heads) {perm=[0, 2, 1, 3]} name="transpose"
  %o = onnx.Relu(%other) name="other_relu"
  return %y, %o
}
}`);
}

async function runOrt(model: Model, feeds: Record<string, Tensor>): Promise<number[][]> {
  const session = await ort.InferenceSession.create(encodeOnnx(model), { logSeverityLevel: 3, graphOptimizationLevel: 'disabled' });
  try {
    const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, new ort.Tensor('float32', Float32Array.from(t.toNumbers()), t.shape)]));
    const result = await session.run(ortFeeds);
    return session.outputNames.map((name) => Array.from(result[name]!.data as Float32Array));
  } finally {
    await session.release();
  }
}

const ops = (model: Model) => [...model.graph.nodes()].map((node) => node.op.replace('onnx.', ''));

describe('reshape-copied-dims', () => {
  it('a Reshape keeping its input\'s batch dim reads a constant shape with 0; same ORT outputs for batch 1 and 3', async () => {
    const model = attention('%x');
    const feeds = [1, 3].map((n, i) => ({ x: randomTensor([n, 6, 8], 11 + i), other: randomTensor([2, 8], 5) }));
    const before = await Promise.all(feeds.map((f) => runOrt(model, f)));
    const run = await runPass(simplify, model);
    expect(ops(model)).toEqual(['Relu', 'Reshape', 'Transpose', 'Relu']);
    const reshape = [...model.graph.nodesOf('onnx.Reshape')][0]!;
    expect(reshape.input(1).name).toBe('target');
    expect(reshape.input(1).constant!.toNumbers().map(Number)).toEqual([0, 6, 2, 4]);
    expect(run.statistics.get('nodes-removed')).toBe(4);
    expect(await Promise.all(feeds.map((f) => runOrt(model, f)))).toEqual(before);
  });

  it('leaves the chain when the gathered dim is another value\'s (M, not N) or allowzero=1', async () => {
    for (const model of [attention('%other'), attention('%x', true)]) {
      await runPass(simplify, model);
      expect(ops(model)).toContain('Concat');
      expect(ops(model)).toContain('Shape');
    }
  });
});
