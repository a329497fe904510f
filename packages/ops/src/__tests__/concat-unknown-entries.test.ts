// inferShapes' Concat value rule with an input of known length but no known value (batch·windows in
// swin's window reshape): the other entries still count, so Reshape(x, [B·nW, 16, 16]) is [?,16,16]
// instead of [?,?,?] (which left swin's rank-5 mask Add with no dims to merge, issue 12).
import { attrs, GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

const i64 = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

describe('inferShapes: Concat of shape values with an unknown entry', () => {
  it('keeps the known entries of a Reshape target', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', ['batch', 2, 2, 16, 16]));
    const y = b.input('y', tensorType('float32', [null]));
    const batch = b.op1('onnx.Gather', [b.op1('onnx.Shape', [x]), b.constant(Tensor.scalar('int64', 0n))], { axis: attrs.int(0) });
    const rows = b.op1('onnx.Unsqueeze', [b.op1('onnx.Mul', [batch, b.op1('onnx.Squeeze', [b.op1('onnx.Shape', [y])])]), b.constant(i64([0]))]);
    const target = b.op1('onnx.Concat', [rows, b.constant(i64([4, 4, 16]))], { axis: attrs.int(0) });
    const reshaped = b.op1('onnx.Reshape', [x, target]);
    b.output(reshaped);
    inferShapes(b.model({ onnx: 14 }));
    expect(reshaped.type).toEqual(tensorType('float32', [null, 4, 4, 16]));
  });
});
