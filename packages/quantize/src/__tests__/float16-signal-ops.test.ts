/**
 * convert-float16 on the signal ops whose `output_datatype` attribute, not an input, picks the
 * output type (HannWindow, HammingWindow, BlackmanWindow; ONNX's conformance models
 * test_hannwindow and kin, found by the passes fuzzer): switched to float16, the output was declared
 * float16 while the attribute still said float32, and verify-each failed the pass. They stay
 * float32, with a Cast after them where a float16 reader needs one.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { runPipeline } from './weights-helpers.js';

/** window(size 10) · x → y, x float32 [10]. */
function windowModel(op: string): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [10]));
  const size = b.constant(Tensor.fromValues('int64', [], [10]), 'size');
  const window = b.op1(`onnx.${op}`, [size], {}, { name: 'window', outputs: ['w'] });
  b.output(b.op1('onnx.Mul', [x, window], {}, { name: 'mul', outputs: ['y'] }));
  return b.model({ onnx: 17 });
}

describe('convert-float16: window ops stay float32', () => {
  it.each(['HannWindow', 'HammingWindow', 'BlackmanWindow'])('%s', async (op) => {
    const model = windowModel(op);
    const run = await runPipeline(model, 'convert-float16');
    const window = [...model.graph.nodesOf(`onnx.${op}`)][0]!;
    expect(window.outputs[0]!.type).toMatchObject({ dtype: 'float32' });
    expect(window.getAttribute('output_datatype')).toBeUndefined();
    expect([...model.graph.nodesOf('onnx.Mul')][0]!.outputs[0]!.type).toMatchObject({ dtype: 'float16' });
    expect(run.statistics.get('nodes-kept')).toBeGreaterThanOrEqual(1);
  });
});
