/**
 * quantize-static{max-drop=… eval-dataset=…} on a model the dataset cannot feed (two inputs, int64 token
 * ids) calibrated first and failed only afterwards, inside the accuracy run (QA s13: a GPT-style decoder
 * calibrated 256 samples before the error). The float model now runs one eval sample before anything
 * else, and the error names the option.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, tensorType, type Model } from '@modelpass/ir';
import { pipelineFailure, randomTensor, runPipeline } from './weights-helpers.js';

function twoInputs(): Model {
  const b = new GraphBuilder();
  const a = b.input('a', tensorType('float32', ['batch', 784]));
  const c = b.input('c', tensorType('float32', ['batch', 784]));
  const y = b.op1('onnx.Gemm', [b.op1('onnx.Add', [a, c], {}, { name: 'add' }), b.constant(randomTensor([10, 784], 1), 'w')], { transB: attrs.int(1) }, { name: 'fc', outputs: ['y'] });
  y.type = tensorType('float32', ['batch', 10]);
  b.output(y);
  return b.model({ onnx: 13 });
}

function tokenIds(): Model {
  const b = new GraphBuilder();
  const ids = b.input('ids', tensorType('int64', ['batch', 'len']));
  const x = b.op1('onnx.Gather', [b.constant(randomTensor([100, 16], 2), 'emb'), ids], {}, { name: 'embed' });
  const y = b.op1('onnx.MatMul', [x, b.constant(randomTensor([16, 10], 3), 'w')], {}, { name: 'head', outputs: ['y'] });
  y.type = tensorType('float32', ['batch', 'len', 10]);
  b.output(y);
  return b.model({ onnx: 13 });
}

describe('accuracy-aware quantize-static checks that eval-dataset fits before calibrating', () => {
  it('a model with two inputs', async () => {
    const message = await pipelineFailure(runPipeline(twoInputs(), 'quantize-static{max-drop=0.5 eval-dataset=fashion-mnist:test samples=4}'));
    expect(message).toContain("option 'eval-dataset' of pass 'quantize-static': model has 2 inputs ('a', 'c')");
    expect(message).not.toContain('modelpass eval');
  });

  it('a model of int64 token ids', async () => {
    const message = await pipelineFailure(runPipeline(tokenIds(), 'quantize-static{max-drop=0.5 eval-dataset=fashion-mnist:test samples=4 dims=[len:4]}'));
    expect(message).toContain("option 'eval-dataset' of pass 'quantize-static': input 'ids' takes int64");
  });
});
