// Op inference under inferShapes reads small integer operands (axes, Reshape targets, Slice bounds) from the values
// inference already holds, without building and decoding a tensor for each reader; the numbers must stay the ones
// the tensor of the value's dtype reads back, including where propagated values do not fit that dtype.
import { attrs, GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

const i64 = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

describe('inferShapes: integer operands read from known values', () => {
  it('reads a propagated int32 target as its int32 tensor holds it (5e9 wraps to 705032704)', () => {
    // x [N, 5000000000]: Cast(Shape(x), int32) keeps the symbolic N, so Gather(…, [1]) is propagated, not evaluated:
    // its value 5e9 is known as a number that int32 does not hold; the Reshape reads the wrapped 705032704, as before.
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', ['N', 5_000_000_000]));
    const y = b.input('y', tensorType('float32', [705_032_704]));
    const sizes = b.op1('onnx.Cast', [b.op1('onnx.Shape', [x])], { to: attrs.int(6) });
    const target = b.op1('onnx.Gather', [sizes, b.constant(i64([1]))], { axis: attrs.int(0) });
    const reshaped = b.op1('onnx.Reshape', [y, target]);
    b.output(reshaped);
    const result = inferShapes(b.model({ onnx: 17 }));
    expect(result.diagnostics).toEqual([]);
    expect(reshaped.type).toEqual(tensorType('float32', [705_032_704]));
    expect(result.knownConstant(target)?.toNumbers()).toEqual([705_032_704]);
  });

  it('reads int64 constants and propagated values as their numbers (Unsqueeze axes, Slice bounds, Reshape target)', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', ['N', 6, 4]));
    const rows = b.op1('onnx.Gather', [b.op1('onnx.Shape', [x]), b.constant(i64([1]))], { axis: attrs.int(0) }); // [6]
    const half = b.op1('onnx.Div', [rows, b.constant(i64([2]))]); // [3], propagated
    const sliced = b.op1('onnx.Slice', [x, b.constant(i64([0])), half, b.constant(i64([1]))]);
    const target = b.op1('onnx.Concat', [b.constant(i64([-1])), half], { axis: attrs.int(0) });
    const reshaped = b.op1('onnx.Reshape', [sliced, target]);
    const unsqueezed = b.op1('onnx.Unsqueeze', [reshaped, b.constant(i64([-1, 0]))]);
    b.output(unsqueezed);
    const result = inferShapes(b.model({ onnx: 17 }));
    expect(result.diagnostics).toEqual([]);
    expect(sliced.type).toEqual(tensorType('float32', ['N', 3, 4]));
    expect(reshaped.type).toEqual(tensorType('float32', [null, 3]));
    expect(unsqueezed.type).toEqual(tensorType('float32', [1, null, 3, 1]));
  });
});
