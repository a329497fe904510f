/**
 * Verify hooks on constant operands whose values made inference write impossible shapes into the output
 * file (QA s13: Reshape to [-1,-1] gave [-6,-1], Slice step 0 gave [2,Infinity], Pad (0,-5) on 3 gave -2,
 * Squeeze of a size-2 axis, TopK k=10 of 3 gave [2,10], a 5×5 kernel over a 3×3 input gave [1,2,0,0];
 * all were written out with exit 0).
 */
import { attrs, GraphBuilder, Tensor, tensorType, verifyModel, type Attribute, type Diagnostic, type Type } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

const registry = createOpRegistry();
const f32 = (...shape: number[]): Type => tensorType('float32', shape);
const ints = (...values: number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map(BigInt));

/** Node 'n' of `op` over input `x` and constant operands (null: absent); the errors the verifier gives. */
function errorsOf(op: string, x: Type, constants: readonly (Tensor | null)[], attributes: Record<string, Attribute> = {}, outputs = 1, opset = 17): Diagnostic[] {
  const b = new GraphBuilder();
  const inputs = [b.input('x', x), ...constants.map((tensor, i) => (tensor ? b.constant(tensor, `c${i}`) : null))];
  b.output(...b.op(op, inputs, attributes, { outputs, name: 'n' }));
  return verifyModel(b.model({ onnx: opset }), { registry }).filter((d) => d.severity === 'error');
}

const reasons = (diagnostics: readonly Diagnostic[]): string => diagnostics.map((d) => `${d.code}: ${d.reason}`).join('\n');

describe('constant operands that no input fits', () => {
  it('Reshape: more than one -1, or a size below -1', () => {
    expect(reasons(errorsOf('onnx.Reshape', f32(2, 3), [ints(-1, -1)]))).toMatch(/ops\/reshape-target: the target shape \[-1,-1\] has more than one -1/);
    expect(reasons(errorsOf('onnx.Reshape', tensorType('float32', ['n', 3]), [ints(-2, 3)]))).toMatch(/the target shape \[-2,3\] holds -2/);
    expect(errorsOf('onnx.Reshape', f32(2, 3), [ints(3, -1)])).toEqual([]);
  });

  it('Slice: a step of 0', () => {
    expect(reasons(errorsOf('onnx.Slice', f32(2, 3), [ints(0), ints(2), ints(1), ints(0)]))).toMatch(/ops\/slice-step: steps\[0\] is 0/);
    expect(errorsOf('onnx.Slice', f32(2, 3), [ints(2), ints(0), ints(1), ints(-1)])).toEqual([]);
  });

  it('Squeeze: an axis whose size is not 1, and an axis outside the rank', () => {
    expect(reasons(errorsOf('onnx.Squeeze', f32(2, 3), [ints(0)]))).toMatch(/ops\/squeeze-axis: axis 0 of 'x' \[2,3\] has size 2; only a size-1 axis can be squeezed/);
    expect(reasons(errorsOf('onnx.Squeeze', f32(1, 3), [ints(4)]))).toMatch(/ops\/axis-range: axis 4 is out of range for an input of rank 2/);
    expect(errorsOf('onnx.Squeeze', f32(2, 1), [ints(-1)])).toEqual([]);
    expect(errorsOf('onnx.Squeeze', tensorType('float32', ['n', 3]), [ints(0)])).toEqual([]);
  });

  it('TopK: k beyond its axis, or negative', () => {
    expect(reasons(errorsOf('onnx.TopK', f32(2, 3), [ints(10)], { axis: attrs.int(1) }, 2))).toMatch(/ops\/topk-k: k is 10 but axis 1 of 'x' \[2,3\] has only 3 elements/);
    expect(reasons(errorsOf('onnx.TopK', f32(2, 3), [ints(-1)], {}, 2))).toMatch(/ops\/topk-k: k is -1/);
    expect(errorsOf('onnx.TopK', f32(2, 3), [ints(3)], {}, 2)).toEqual([]);
  });

  it('Pad: negative pads that crop an axis below 0', () => {
    expect(reasons(errorsOf('onnx.Pad', f32(2, 3), [ints(0, -5, 0, 0)]))).toMatch(/ops\/pad-size: pads \(-5, 0\) crop axis 1 of 'x' \[2,3\] to -2 elements/);
    expect(errorsOf('onnx.Pad', f32(2, 3), [ints(0, -1, 0, -2)])).toEqual([]);
  });

  it('Conv: a kernel window larger than the padded input', () => {
    const weight = Tensor.fromValues('float32', [2, 1, 5, 5], new Array<number>(50).fill(1));
    expect(reasons(errorsOf('onnx.Conv', f32(1, 1, 3, 3), [weight]))).toMatch(/ops\/conv-window: the kernel window of 5 on spatial axis 0 is larger than the padded input \(3\)/);
    expect(reasons(errorsOf('onnx.Conv', f32(1, 1, 3, 5), [weight], { dilations: attrs.ints([1, 2]), pads: attrs.ints([1, 0, 1, 0]) }))).toMatch(/kernel window of 9 on spatial axis 1 is larger than the padded input \(5\)/);
    expect(errorsOf('onnx.Conv', f32(1, 1, 3, 3), [weight], { pads: attrs.ints([1, 1, 1, 1]) })).toEqual([]);
    expect(errorsOf('onnx.Conv', f32(1, 1, 3, 3), [weight], { auto_pad: attrs.string('SAME_UPPER') })).toEqual([]);
  });

  it('Gather: a constant index outside the axis (ONNX Runtime fails at run time)', () => {
    expect(reasons(errorsOf('onnx.Gather', f32(4, 3), [ints(7, 2)]))).toMatch(/ops\/gather-index: index 7 is outside axis 0 of 'x' \[4,3\]/);
    expect(reasons(errorsOf('onnx.Gather', f32(4, 3), [ints(-4)], { axis: attrs.int(1) }))).toMatch(/index -4 is outside axis 1 of 'x' \[4,3\]/);
    expect(errorsOf('onnx.Gather', f32(4, 3), [ints(-4, 3)])).toEqual([]);
  });
});
