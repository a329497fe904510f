// Resize whose sizes are known only in part (torch's dynamic-batch segmentation heads:
// Concat(Shape(x)[:2], H, W)), and a graph output declared with symbols torch made up for those
// dims: inference gives the dims it knows, and a proven number replaces a declared symbol.
import { attrs, GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { inferShapes, mergeTypes } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

const i64 = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

describe('Resize sizes known in part', () => {
  it('gives the known sizes and keeps the symbolic batch; refines the declared output symbols', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', ['batch', 4, 6, 5]));
    const leading = b.op1('onnx.Slice', [b.op1('onnx.Shape', [x]), b.constant(i64([0])), b.constant(i64([2]))]);
    const sizes = b.op1('onnx.Concat', [leading, b.constant(i64([12, 10]))], { axis: attrs.int(0) });
    const y = b.op1('onnx.Resize', [x, null, null, sizes], { mode: attrs.string('linear') });
    b.output(y);
    y.type = tensorType('float32', ['batch', 'Resizey_dim_1', 'Resizey_dim_2', 'Resizey_dim_3']);
    const result = inferShapes(b.model({ onnx: 13 }));
    expect(result.diagnostics).toEqual([]);
    expect(y.type).toEqual(tensorType('float32', ['batch', 4, 12, 10]));
  });

  it('mergeTypes: a number replaces a declared symbol, a declared number stays, a symbol does not replace a number', () => {
    expect(mergeTypes(tensorType('float32', ['n', 'h']), tensorType('float32', ['n', 7])).type).toEqual(tensorType('float32', ['n', 7]));
    expect(mergeTypes(tensorType('float32', [3, 'h']), tensorType('float32', ['m', 'k'])).type).toEqual(tensorType('float32', [3, 'h']));
    expect(mergeTypes(tensorType('float32', [3]), tensorType('float32', [4])).conflict).toMatch(/dim 0: 3 vs 4/);
  });
});
