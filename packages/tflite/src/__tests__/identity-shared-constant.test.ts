/**
 * torch's exporter writes initializers with equal contents once and gives the other readers an
 * Identity of it (ConvNeXt's layer scales, all 1e-6 at initialization). legalize-tflite must see
 * through them: a per-channel scale behind an Identity left 21 transposes inside convnext_tiny.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { countTransposes, registerTfliteDialect, tflitePasses } from '@modelpass/tflite';
import { transformPasses } from '@modelpass/transforms';

const C = 320;
const values = (shape: number[]) => Tensor.fromValues('float32', shape, Array.from({ length: shape.reduce((n, d) => n * d, 1) }, (_, i) => ((i % 5) - 2) / 10));

/**
 * Two ConvNeXt blocks: Conv → Transpose to NHWC → MatMul → Transpose to NCHW → ·scale [C,1,1] + residual;
 * the second block reads the scale through an Identity.
 */
function blocks(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 3, 2, 2]));
  // 1,280 bytes: a copy would grow the model by more than fold-constants' default max-growth (1,024).
  const scale = b.constant(Tensor.fromValues('float32', [C, 1, 1], new Array<number>(C).fill(1e-6)), 'layer_scale');
  const conv = (input: ReturnType<typeof b.input>, channelsIn: number, name: string) =>
    b.op1('onnx.Conv', [input, b.constant(values([C, channelsIn, 1, 1])), b.constant(values([C]))], {}, { name });
  const stem = conv(x, 3, 'stem');
  const block = (input: ReturnType<typeof b.input>, layerScale: ReturnType<typeof b.input>, name: string) => {
    const channelsLast = b.op1('onnx.Transpose', [conv(input, C, `${name}_conv`)], { perm: attrs.ints([0, 2, 3, 1]) });
    const linear = b.op1('onnx.MatMul', [channelsLast, b.constant(values([C, C]))], {}, { name: `${name}_linear` });
    const channelsFirst = b.op1('onnx.Transpose', [linear], { perm: attrs.ints([0, 3, 1, 2]) });
    return b.op1('onnx.Add', [b.op1('onnx.Mul', [layerScale, channelsFirst]), input]);
  };
  const first = block(stem, scale, 'block0');
  const second = block(first, b.op1('onnx.Identity', [scale], {}, { name: 'Identity_0' }), 'block1');
  b.output(conv(second, C, 'head'));
  const model = b.model({ onnx: 17 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

describe('legalize-tflite and Identity of a shared constant', () => {
  it('leaves no transpose inside the net when one block reads its scale through an Identity', async () => {
    const model = blocks();
    const environment = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
    environment.passes.register(transformPasses, '@modelpass/transforms');
    environment.passes.register(tflitePasses, '@modelpass/tflite');
    await new PassManager({ environment }).run(model, 'legalize-tflite');
    expect(countTransposes(model.graph)).toEqual({ inner: 0, boundary: 2 });
    expect(model.graph.nodeList().some((node) => node.op.endsWith('Identity'))).toBe(false);
  });
});
