/**
 * A model ONNX Runtime refuses by itself (QA s12: an opset-21 model whose ReduceMean still has the `axes`
 * attribute of opset < 18) was reported as "/tmp/.modelpass-calibration…/statistics.onnx: ONNX Runtime
 * rejected the model", naming a temporary file calibration wrote. It now says ORT cannot load the model.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, tensorType } from '@modelpass/ir';
import { calibrate } from '../index.js';

describe('calibrating a model ONNX Runtime refuses', () => {
  it('says the model itself is refused, not a temporary statistics file', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', ['batch', 4, 3]));
    const r = b.op1('onnx.Relu', [x], {}, { name: 'relu', outputs: ['r'] });
    const mean = b.op1('onnx.ReduceMean', [r], { axes: attrs.ints([2]) }, { name: 'mean', outputs: ['m'] });
    mean.type = tensorType('float32', ['batch', 4, 1]);
    b.output(mean);
    const model = b.model({ onnx: 21 });
    const error = await calibrate(model, ['r'], { method: 'minmax', samples: 2, warn: () => {} }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/ONNX Runtime cannot load the model to calibrate it \(before calibration adds anything\): .*axes/);
    expect(error?.message).not.toMatch(/statistics\.onnx/);
  }, 60_000);
});
