/**
 * note12 item 5: quantize-static on a model whose Conv → constant Mul/Add steps are not folded (PP-OCRv4 rec's
 * learnable affine blocks after `simplify`: 28 of them) quantizes the Conv's output before the step and loses
 * accuracy, without a word. It now warns once, naming the chains, and hints `optimize` (or `fuse`), which fold
 * them into the Conv's weights and bias; after `optimize` there is nothing to warn about.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { quantizePasses } from '@modelpass/quantize';
import { transformPasses } from '@modelpass/transforms';

const ramp = (shape: number[], seed: number) => Tensor.fromValues('float32', shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(seed + i * 0.37)));

/**
 * x → Conv 'affine_conv' → Mul(scalar 1.7) → Add([1,4,1,1]) → Relu → y; and x → Conv 'plain_conv' → Relu, plus
 * x → Conv 'gated_conv' → Mul by a run-time value (a Sigmoid of the input, not a constant) → z.
 */
function model(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 3, 8, 8]));
  const conv = (name: string, seed: number) => b.op1('onnx.Conv', [x, b.constant(ramp([4, 3, 3, 3], seed), `${name}.w`), b.constant(ramp([4], seed + 1), `${name}.b`)], { pads: attrs.ints([1, 1, 1, 1]) }, { name });
  const scaled = b.op1('onnx.Mul', [conv('affine_conv', 1), b.constant(Tensor.fromValues('float32', [1], [1.7]), 'scale')], {}, { name: 'affine_mul' });
  const shifted = b.op1('onnx.Add', [scaled, b.constant(ramp([1, 4, 1, 1], 5), 'shift')], {}, { name: 'affine_add' });
  b.output(b.op1('onnx.Relu', [shifted], {}, { outputs: ['y'] }));
  b.output(b.op1('onnx.Relu', [conv('plain_conv', 2)], {}, { outputs: ['w'] }));
  const gate = b.op1('onnx.Sigmoid', [b.op1('onnx.Conv', [x, b.constant(ramp([4, 3, 1, 1], 7), 'g.w')], {}, { name: 'gate_conv' })]);
  b.output(b.op1('onnx.Mul', [conv('gated_conv', 3), gate], {}, { outputs: ['z'] }));
  return b.model({ onnx: 13 });
}

async function warningsOf(pipeline: string): Promise<string[]> {
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  environment.passes.register(quantizePasses, '@modelpass/quantize');
  const result = await new PassManager({ environment }).run(model(), pipeline);
  return result.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.reason + (d.hint ? ` | hint: ${d.hint}` : ''));
}

describe('quantize-static names Conv → constant Mul/Add steps left unfolded', () => {
  it('warns once, naming the chain (not the plain Conv nor the one gated by a run-time value), and hints optimize', async () => {
    const unfolded = (await warningsOf('quantize-static{samples=4}')).filter((w) => w.includes('not folded into the Conv'));
    expect(unfolded).toEqual([
      "1 Conv output is scaled or shifted by a constant Mul/Add not folded into the Conv (Conv 'affine_conv' → Mul 'affine_mul'): quantizing the Conv's output before that step costs accuracy | hint: fold them into the Conv weights and bias first: run optimize (or fuse) before quantize-static, e.g. -p optimize,quantize-static",
    ]);
  });

  it('after optimize (which folds the Mul and the Add into the Conv) there is nothing to warn about', async () => {
    expect((await warningsOf('optimize,quantize-static{samples=4}')).filter((w) => w.includes('not folded into the Conv'))).toEqual([]);
    expect((await warningsOf('fuse,quantize-static{samples=4}')).filter((w) => w.includes('not folded into the Conv'))).toEqual([]);
  });
});
