/**
 * convert-float16 on its own output (QA s17 round 13, `convert-float16` run twice): it converted the boundary Casts — the
 * input's Cast to float16 got a second Cast before it and the output's Cast to float32 became a float16 Cast plus a new
 * one — and said nothing. A Cast between float32 and the target type is now a boundary left as it is: the second run
 * finds nothing to convert and changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, tensorType, type Model } from '@modelpass/ir';
import { randomTensor, runPipeline } from './weights-helpers.js';

function model(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 8]));
  const h = b.op1('onnx.MatMul', [x, b.constant(randomTensor([8, 8], 1), 'w1')], {}, { name: 'fc1' });
  const r = b.op1('onnx.Relu', [h], {}, { name: 'relu' });
  b.output(b.op1('onnx.MatMul', [r, b.constant(randomTensor([8, 4], 2), 'w2')], {}, { name: 'fc2', outputs: ['y'] }));
  return b.model({ onnx: 13 });
}

const ops = (m: Model): string[] => [...m.graph.nodes()].map((node) => `${node.opType}:${node.outputs.map((o) => (o?.type.kind === 'tensor' ? o.type.dtype : '?')).join(',')}`);

describe('convert-float16 run twice', () => {
  it.each(['float16', 'bfloat16'])('leaves a %s model as the first run wrote it, with a warning', async (type) => {
    const m = model();
    await runPipeline(m, `convert-float16{type=${type}}`);
    const first = ops(m);
    expect(first.filter((op) => op.startsWith('Cast:'))).toHaveLength(2);
    const again = await runPipeline(m, `convert-float16{type=${type}}`);
    expect(again.warnings.join('\n')).toContain(`found no node to convert to ${type}`);
    expect(ops(m)).toEqual(first);
  });
});
