/**
 * quantize-dynamic{ops=[Conv]} re-lays each Conv bias as [M, 1, 1] for the Add after ConvInteger and left the
 * 1-D original in the file, unread (QA s12: squeezenet1_1 kept 8 such initializers; ORT warned "Removing
 * initializer … It is not used by any node" for each). The original is removed once nothing reads it.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, tensorType, type Model } from '@modelpass/ir';
import { randomTensor, runPipeline } from './weights-helpers.js';

function convWithBias(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 8, 5, 5]));
  const conv = b.op1('onnx.Conv', [x, b.constant(randomTensor([8, 8, 3, 3], 1), 'conv.weight'), b.constant(randomTensor([8], 2), 'conv.bias')], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv' });
  b.output(b.op1('onnx.Relu', [conv], {}, { name: 'relu', outputs: ['y'] }));
  return b.model({ onnx: 13 });
}

describe('quantize-dynamic on a Conv with a bias', () => {
  it('leaves no unread initializer behind', async () => {
    const model = convWithBias();
    const run = await runPipeline(model, 'quantize-dynamic{ops=[Conv]}');
    expect(run.statistics.get('layers-quantized')).toBe(1);
    const unread = model.graph.constants.filter((value) => !value.hasUses && !value.isGraphOutput).map((value) => value.name);
    expect(unread).toEqual([]);
    expect(model.graph.constants.map((value) => value.name)).not.toContain('conv.bias');
  });
});
