/**
 * quantize-dynamic (integer form) on a layer whose declared output shape is stale: y declared
 * [N,3,2] while MatMul gives [N,3]. Input verification tolerates it (ONNX Runtime runs the model;
 * `modelpass convert -p simplify` converts it with a warning), but the pass copied the declaration
 * onto MatMulInteger and Cast, so Cast [N,3,2] times scales [3] no longer broadcast and verify-each
 * failed the pass (passes fuzz seed 1822: fashion-cnn with a mutated output dim). The new values
 * now take what the layer computes, with a warning; ONNX Runtime runs the result.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, tensorType, type Model } from '@modelpass/ir';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { randomTensor, runPipeline } from './weights-helpers.js';

afterAll(async () => {
  await disposeSharedOrtRunner();
});

/** x → [Relu, its output untyped as a file leaves it →] MatMul(W) → y declared [N,3,2]. */
function staleMatMul(throughRelu = false): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', ['N', 4]));
  const a = throughRelu ? b.op1('onnx.Relu', [x], {}, { name: 'relu', outputs: ['a'] }) : x;
  const w = b.constant(randomTensor([4, 3], 5), 'W');
  b.output(b.op1('onnx.MatMul', [a, w], {}, { name: 'mm', outputs: ['y'], types: [tensorType('float32', ['N', 3, 2])] }));
  return b.model({ onnx: 13 });
}

describe('quantize-dynamic: a layer whose declared output shape is stale', () => {
  it.each([false, true])('quantizes it, its values typed as computed, and ONNX Runtime agrees with float32 within int8 error (through an untyped Relu: %s)', async (throughRelu) => {
    const input = randomTensor([2, 4], 9);
    const model = staleMatMul(throughRelu);
    const run = await runPipeline(model, 'quantize-dynamic');
    expect([...model.graph.nodesOf('onnx.MatMulInteger')]).toHaveLength(1);
    expect(model.graph.outputs[0]!.type).toEqual(tensorType('float32', ['N', 3]));
    expect(run.warnings.join('\n')).toContain("'y' is declared float32[N,3,2] but onnx.MatMul 'mm' gives float32[N,3]");
    const reference = (await runOrt(staleMatMul(throughRelu), { x: input })).get('y')!.toNumbers();
    const quantized = (await runOrt(model, { x: input })).get('y')!.toNumbers();
    expect(quantized).toHaveLength(6);
    quantized.forEach((value, i) => expect(Math.abs(value - reference[i]!)).toBeLessThan(0.05));
  });
});
