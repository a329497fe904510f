/**
 * convert-float16's keep= took any string: a misspelt node name was ignored and that node silently
 * converted to float16 (QA s12, keep=[/t/layers.0/linear1/MatMull]). An entry must now name a node of
 * the model or an ONNX op type (op types stay generic: one pipeline serves models without that op).
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, tensorType, type Model } from '@modelpass/ir';
import { randomTensor, runPipeline, pipelineFailure } from './weights-helpers.js';

function model(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 8]));
  const h = b.op1('onnx.MatMul', [x, b.constant(randomTensor([8, 8], 1), 'w1')], {}, { name: 'fc1' });
  b.output(b.op1('onnx.MatMul', [h, b.constant(randomTensor([8, 4], 2), 'w2')], {}, { name: 'fc2', outputs: ['y'] }));
  return b.model({ onnx: 13 });
}

describe('convert-float16 keep=', () => {
  it('refuses a name that is neither a node nor an op type, suggesting the closest node', async () => {
    const message = await pipelineFailure(runPipeline(model(), 'convert-float16{keep=[fc22]}'));
    expect(message).toMatch(/option 'keep' of pass 'convert-float16' names 'fc22', which is neither a node of the model nor an ONNX op type — did you mean 'fc2'\?/);
  });

  it('takes node names, op types of the model and op types it does not hold', async () => {
    const run = await runPipeline(model(), 'convert-float16{keep=[fc2,MatMul,LayerNormalization]}');
    expect(run.statistics.get('nodes-kept')).toBe(2);
  });
});
