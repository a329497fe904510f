/**
 * quantize-static on a model whose only Conv a rule leaves float (QA s10 R5: an RGB 3×3 stem,
 * 3 × 3×3 = 27 multiply-adds per output, under min-conv-reduction=32, then Softmax): the warning
 * names the Conv, the rule and the option setting that quantizes it, instead of claiming there is
 * no Conv with float32 constant weights; that setting then quantizes it. exclude= is named likewise.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, tensorType, type Model } from '@modelpass/ir';
import { randomTensor, runPipeline } from './weights-helpers.js';

function rgbStemModel(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 3, 8, 8]));
  const weight = b.constant(randomTensor([4, 3, 3, 3], 5), 'stem_w');
  const conv = b.op1('onnx.Conv', [x, weight], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'stem', outputs: ['stem_out'] });
  const y = b.op1('onnx.Softmax', [conv], { axis: attrs.int(1) }, { name: 'softmax', outputs: ['y'] });
  b.output(y);
  return b.model({ onnx: 13 });
}

describe('quantize-static: nothing quantized because a rule left the weighted ops float', () => {
  it('names the Conv, min-conv-reduction and the setting that quantizes it', async () => {
    const run = await runPipeline(rgbStemModel(), 'quantize-static{samples=4}');
    const warning = run.warnings.find((reason) => reason.includes('found nothing to quantize'));
    expect(warning).toBeDefined();
    expect(warning).not.toMatch(/no Conv\/MatMul\/Gemm with float32 constant weights/);
    expect(warning).toMatch(/Conv 'stem': its reduction is 27 multiply-adds per output \(3 input channel\(s\) × 3×3 kernel\), under 32 \(min-conv-reduction\)/);
    expect(run.hints.join('\n')).toMatch(/quantize-static\{min-conv-reduction=0\} quantizes Conv 'stem'/);
  }, 60_000);

  it('min-conv-reduction=0 then quantizes it', async () => {
    const run = await runPipeline(rgbStemModel(), 'quantize-static{samples=4 min-conv-reduction=0}');
    expect(run.warnings.join('\n')).not.toMatch(/found nothing to quantize/);
    expect(run.statistics.get('nodes-quantized')).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('exclude=[Conv] is named as the rule, with its way back', async () => {
    const run = await runPipeline(rgbStemModel(), 'quantize-static{samples=4 min-conv-reduction=0 exclude=[Conv]}');
    const warning = run.warnings.find((reason) => reason.includes('found nothing to quantize'));
    expect(warning).toMatch(/the only Conv\/MatMul\/Gemm stays float32 — Conv 'stem': excluded by exclude=/);
    expect(run.hints.join('\n')).toMatch(/exclude= leaves 'stem' float: take its name or op type out of the list/);
  }, 60_000);

  it('a model without weighted ops keeps the plain message', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [1, 4]));
    b.output(b.op1('onnx.Softmax', [x], { axis: attrs.int(1) }, { name: 'softmax', outputs: ['y'] }));
    const run = await runPipeline(b.model({ onnx: 13 }), 'quantize-static{samples=4}');
    expect(run.warnings.join('\n')).toMatch(/found nothing to quantize \(no Conv\/MatMul\/Gemm with float32 constant weights\)/);
  }, 60_000);
});
