/**
 * Samples holding NaN/±Infinity (QA s12): an argmax over NaN logits picked class 0, so an all-NaN dataset
 * scored the share of class-0 labels as accuracy (40% of 20 samples), and an int8 model, which quantizes
 * NaN to a finite code, scored them silently. A row of NaN logits now has no prediction (counted wrong,
 * `nanRows`), and samples holding non-finite values are counted (`nonFiniteSamples`).
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { evaluateAccuracy, type LabelledDataset } from '@modelpass/runtime';

/** logits = Relu(x), x [batch, 2]: for samples ≥ 0 the logits are the sample itself (NaN stays NaN, Infinity stays Infinity). */
function passThroughModel() {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', ['batch', 2]));
  const y = b.op1('onnx.Relu', [x], {}, { outputs: ['logits'] });
  y.type = tensorType('float32', ['batch', 2]);
  b.output(y);
  return b.model({ onnx: 13 });
}

function dataset(samples: number[][], labels: number[]): LabelledDataset {
  return {
    samples: Tensor.fromValues('float32', [samples.length, 2], samples.flat()),
    labels: Int32Array.from(labels),
    size: samples.length,
    sampleShape: [2],
  };
}

describe('accuracy on samples holding NaN or Infinity', () => {
  it('a row of NaN logits predicts nothing: counted wrong and in nanRows', async () => {
    const data = dataset([[NaN, NaN], [NaN, 1], [1, NaN], [0, 1], [2, 1]], [0, 1, 0, 1, 0]);
    const result = await evaluateAccuracy(passThroughModel(), data, { normalization: { scale: 1 } });
    // only the two finite samples can be right (both are)
    expect(result.correct).toBe(2);
    expect(result.nanRows).toBe(3);
    expect(result.nonFiniteSamples).toBe(3);
  });

  it('Infinity is a value an argmax can pick; the sample is still counted as non-finite', async () => {
    const data = dataset([[Infinity, 1], [0, 1]], [0, 1]);
    const result = await evaluateAccuracy(passThroughModel(), data, { normalization: { scale: 1 } });
    expect(result.correct).toBe(2);
    expect(result.nanRows).toBe(0);
    expect(result.nonFiniteSamples).toBe(1);
  });
});
