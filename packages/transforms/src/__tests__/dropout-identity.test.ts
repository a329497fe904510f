import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { eliminateDropoutPass, whyDropoutIsNotIdentity } from '@modelpass/transforms';
import { opsOf, runPass } from './helpers.js';

const f32 = (shape: (number | string)[]) => tensorType('float32', shape);

describe('Dropout with ratio 0', () => {
  it('is the identity in training mode too (torch exports F.dropout(p=0.0, training=True) so: swin_t)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([2, 3]));
    const training = b.constant(Tensor.scalar('bool', true), 'training');
    const zero = b.op1('onnx.Dropout', [x, b.constant(Tensor.scalar('float32', 0), 'zero'), training], {}, { name: 'zero_ratio' });
    const some = b.op1('onnx.Dropout', [zero, b.constant(Tensor.scalar('float32', 0.1), 'tenth'), training], {}, { name: 'tenth_ratio' });
    const fallback = b.op1('onnx.Dropout', [some, null, training], {}, { name: 'default_ratio' });
    b.output(b.op1('onnx.Relu', [fallback]));
    const model = b.model({ onnx: 17 });
    const [zeroNode, someNode, fallbackNode] = model.graph.nodeList();
    expect(whyDropoutIsNotIdentity(zeroNode!, model)).toBeUndefined();
    expect(whyDropoutIsNotIdentity(someNode!, model)).toMatch(/training_mode is not a constant false/);
    expect(whyDropoutIsNotIdentity(fallbackNode!, model)).toMatch(/ratio is not a constant 0/);
    await runPass(eliminateDropoutPass, model);
    expect(opsOf(model)).toEqual(['Dropout', 'Dropout', 'Relu']);
    expect(model.graph.nodeList()[0]!.name).toBe('tenth_ratio');
  });

  it('reads the ratio attribute before opset 12 (is_test=0 with ratio 0 keeps every element)', () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([2]));
    const zero = b.op1('onnx.Dropout', [x], { ratio: attrs.float(0), is_test: attrs.int(0) });
    const half = b.op1('onnx.Dropout', [zero], { is_test: attrs.int(0) });
    b.output(half);
    const model = b.model({ onnx: 6 });
    const [zeroNode, halfNode] = model.graph.nodeList();
    expect(whyDropoutIsNotIdentity(zeroNode!, model)).toBeUndefined();
    expect(whyDropoutIsNotIdentity(halfNode!, model)).toMatch(/is_test=0/);
  });
});
