/**
 * evaluateAccuracy on models `modelpass eval` users bring (QA s13): a float16 input (a model converted
 * with convert-float16{keep-io=false}) failed in ORT with a wrong-dtype error — its samples are now
 * rounded to float16; a model with two inputs was told "say which one takes the samples (expected
 * inputName…)", an API option name, although no choice can feed both; an int64 token input was told
 * its dims were not static ("pass sampleShape") before anything about its dtype.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type DType } from '@modelpass/ir';
import { evaluateAccuracy, type LabelledDataset } from '@modelpass/runtime';

/** logits = Cast(x → float32) · 1 (a pass-through classifier of 2 classes) with input dtype `dtype`. */
function passThrough(dtype: DType) {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType(dtype, ['batch', 2]));
  const y = b.op1('onnx.Cast', [x], { to: attrs.int(1) }, { outputs: ['logits'] });
  y.type = tensorType('float32', ['batch', 2]);
  b.output(y);
  return b.model({ onnx: 13 });
}

function twoInputs() {
  const b = new GraphBuilder();
  const a = b.input('a', tensorType('float32', ['batch', 2]));
  const c = b.input('c', tensorType('float32', ['batch', 2]));
  const y = b.op1('onnx.Add', [a, c], {}, { outputs: ['logits'] });
  y.type = tensorType('float32', ['batch', 2]);
  b.output(y);
  return b.model({ onnx: 13 });
}

const data: LabelledDataset = {
  samples: Tensor.fromValues('float32', [4, 2], [0.25, 0.5, 3, 1, 0.125, 0.0625, 1, 2]),
  labels: Int32Array.from([1, 0, 0, 1]),
  size: 4,
  sampleShape: [2],
};

async function failure(run: Promise<unknown>): Promise<string> {
  return run.then(() => 'no error', (error: unknown) => String((error as Error).message));
}

describe('evaluateAccuracy and the model input type', () => {
  for (const dtype of ['float16', 'float64'] as const) {
    it(`feeds a ${dtype} input the samples rounded to ${dtype}`, async () => {
      const result = await evaluateAccuracy(passThrough(dtype), data, { normalization: { scale: 1 } });
      expect(result.correct).toBe(4);
    });
  }

  it('refuses an int64 input naming its dtype, not its dims', async () => {
    const message = await failure(evaluateAccuracy(passThrough('int64'), data, { normalization: { scale: 1 } }));
    expect(message).toContain("input 'x' takes int64, but accuracy feeds the dataset's samples as float images");
    expect(message).not.toContain('sampleShape');
  });

  it('refuses a model with two inputs saying why one input cannot be enough, with the CLI flag', async () => {
    const message = await failure(evaluateAccuracy(twoInputs(), data, { normalization: { scale: 1 } }));
    expect(message).toContain("model has 2 inputs ('a', 'c'); accuracy feeds the dataset's samples to one input, and the others would get nothing");
    expect(message).toContain('--input NAME');
  });
});
