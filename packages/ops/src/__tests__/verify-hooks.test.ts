import { attrs, Graph, GraphBuilder, Tensor, tensorType, verifyModel, type Attribute, type Diagnostic, type Type, type Value } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

const registry = createOpRegistry();
const f32 = (...shape: number[]): Type => tensorType('float32', shape);

/** One node named 'n' of `op` over typed inputs; returns the diagnostics the schemas add. */
function diagnosticsOf(op: string, inputTypes: readonly Type[], attributes: Record<string, Attribute>, outputs = 1, opset = 18): Diagnostic[] {
  const b = new GraphBuilder();
  const inputs: Value[] = inputTypes.map((type, i) => b.input(`in${i}`, type));
  const results = b.op(op, inputs, attributes, { outputs, name: 'n' });
  b.output(...results);
  return verifyModel(b.model({ onnx: opset }), { registry }).filter((d) => d.severity === 'error');
}

const codes = (diagnostics: readonly Diagnostic[]) => diagnostics.map((d) => d.code);

describe('verify hooks of the canonical op set', () => {
  it('accept well-formed nodes', () => {
    expect(diagnosticsOf('onnx.Conv', [f32(1, 4, 8, 8), f32(6, 2, 3, 3)], { kernel_shape: attrs.ints([3, 3]), group: attrs.int(2), pads: attrs.ints([1, 1, 1, 1]) })).toEqual([]);
    expect(diagnosticsOf('onnx.Gemm', [f32(5, 3), f32(4, 5)], { transA: attrs.int(1), transB: attrs.int(1) })).toEqual([]);
    expect(diagnosticsOf('onnx.Split', [f32(6, 2)], { axis: attrs.int(0), split: attrs.ints([2, 4]) }, 2, 11)).toEqual([]);
  });

  it('Conv: kernel_shape against the weight rank and dims, channels against groups, located at the node', () => {
    const [rank] = diagnosticsOf('onnx.Conv', [f32(1, 3, 8, 8), f32(4, 3, 3, 3)], { kernel_shape: attrs.ints([3]) });
    expect(rank).toMatchObject({ code: 'ops/conv-kernel-shape', location: { node: 'n', op: 'onnx.Conv' } });
    expect(rank!.reason).toMatch(/kernel_shape has 1 dims but the weight has rank 4/);
    expect(codes(diagnosticsOf('onnx.Conv', [f32(1, 3, 8, 8), f32(4, 3, 3, 3)], { kernel_shape: attrs.ints([3, 5]) }))).toEqual(['ops/conv-kernel-shape']);
    // a rank-1 weight is named as such, not as "kernel_shape of -1 dims"
    const low = diagnosticsOf('onnx.Conv', [f32(1, 3, 8, 8), f32(4)], { kernel_shape: attrs.ints([3, 3]) });
    expect(low.map((d) => d.reason).join('\n')).toMatch(/the weight has rank 1, below a convolution's 3/);
    expect(JSON.stringify(low)).not.toContain('-1 dims');
    expect(codes(diagnosticsOf('onnx.Conv', [f32(1, 4, 8, 8), f32(6, 4, 3, 3)], { group: attrs.int(2) }))).toEqual(['ops/conv-channels']);
    expect(codes(diagnosticsOf('onnx.Conv', [f32(1, 3, 8, 8), f32(4, 3, 3, 3)], { strides: attrs.ints([1, 1, 1]) }))).toEqual(['ops/window-attribute-length']);
    expect(codes(diagnosticsOf('onnx.Conv', [f32(1, 3, 8, 8), f32(4, 3, 3, 3)], { auto_pad: attrs.string('SAME_UPPER'), pads: attrs.ints([1, 1, 1, 1]) }))).toEqual(['ops/auto-pad-with-pads']);
  });

  it('Gemm: transA/transB must be 0 or 1, and the inner dimensions must agree', () => {
    const [value] = diagnosticsOf('onnx.Gemm', [f32(3, 5), f32(5, 4)], { transA: attrs.int(2) });
    expect(value).toMatchObject({ code: 'verify/attribute-value', location: { node: 'n' } });
    const [inner] = diagnosticsOf('onnx.Gemm', [f32(3, 5), f32(5, 4)], { transB: attrs.int(1) });
    expect(inner).toMatchObject({ code: 'ops/gemm-inner-dim', location: { node: 'n', op: 'onnx.Gemm' } });
    expect(codes(diagnosticsOf('onnx.MatMul', [f32(2, 3, 4), f32(5, 6)], {}))).toEqual(['ops/matmul-inner-dim']);
  });

  it('broadcasting ops and Reshape: a proven static clash is an error naming the inputs and their shapes; unknown dims are not', () => {
    const [add] = diagnosticsOf('onnx.Add', [f32(1048576, 13), f32(7, 13)], {});
    expect(add).toMatchObject({ code: 'ops/broadcast-shapes', location: { node: 'n', op: 'onnx.Add' } });
    expect(add!.reason).toContain("'in0' [1048576,13] and 'in1' [7,13] differ on dim -2 (1048576 and 7, neither 1)");
    expect(codes(diagnosticsOf('onnx.Where', [tensorType('bool', [4, 1]), f32(4, 3), f32(5, 3)], {}))).toEqual(['ops/broadcast-shapes']);
    expect(codes(diagnosticsOf('onnx.Sum', [f32(2, 3), f32(3), f32(4, 1)], {}))).toEqual(['ops/broadcast-shapes']);
    expect(codes(diagnosticsOf('onnx.Equal', [f32(2, 3), f32(2)], {}))).toEqual(['ops/broadcast-shapes']);
    expect(diagnosticsOf('onnx.Add', [f32(8, 1, 13), f32(7, 13)], {})).toEqual([]);
    expect(diagnosticsOf('onnx.Mul', [tensorType('float32', ['N', 13]), f32(7, 13)], {})).toEqual([]);
    expect(diagnosticsOf('onnx.Add', [tensorType('float32', [null, 13]), f32(7, 1)], {})).toEqual([]);
    expect(diagnosticsOf('onnx.Add', [tensorType('float32', null), f32(7, 13)], {})).toEqual([]);
    const reshape = (input: Type, target: number[]): Diagnostic[] => {
      const b = new GraphBuilder();
      const x = b.input('x', input);
      const shape = b.constant(Tensor.fromValues('int64', [target.length], target.map((v) => BigInt(v))), 'target');
      b.output(b.op1('onnx.Reshape', [x, shape], {}, { name: 'n' }));
      return verifyModel(b.model({ onnx: 18 }), { registry }).filter((d) => d.severity === 'error');
    };
    const [size] = reshape(f32(2, 3, 4), [5, 5]);
    expect(size).toMatchObject({ code: 'ops/reshape-size', location: { node: 'n', op: 'onnx.Reshape' } });
    expect(size!.reason).toContain("cannot reshape 'x' [2,3,4] (24 elements) to [5,5]");
    expect(codes(reshape(f32(2, 3, 4), [5, -1]))).toEqual(['ops/reshape-size']);
    expect(reshape(f32(2, 3, 4), [0, -1])).toEqual([]);
    expect(reshape(f32(2, 3, 4), [6, 4])).toEqual([]);
    expect(reshape(tensorType('float32', ['N', 3, 4]), [5, 5])).toEqual([]);
  });

  it('Split: output count against split / num_outputs, sizes against the dimension', () => {
    expect(codes(diagnosticsOf('onnx.Split', [f32(6, 2)], { split: attrs.ints([2, 2, 2]) }, 2, 11))).toEqual(['ops/split-count']);
    expect(codes(diagnosticsOf('onnx.Split', [f32(6, 2)], { split: attrs.ints([2, 3]) }, 2, 11))).toEqual(['ops/split-sizes']);
    expect(codes(diagnosticsOf('onnx.Split', [f32(6, 2)], { num_outputs: attrs.int(3) }, 2, 18))).toEqual(['ops/split-count']);
  });

  it('pools, Transpose, Concat and Scan bodies', () => {
    expect(codes(diagnosticsOf('onnx.MaxPool', [f32(1, 1, 5, 5)], { kernel_shape: attrs.ints([2, 2]), pads: attrs.ints([2, 0, 0, 0]) }))).toEqual(['ops/pool-pads']);
    expect(codes(diagnosticsOf('onnx.AveragePool', [f32(1, 1, 5)], { kernel_shape: attrs.ints([2, 2]) }))).toEqual(['ops/pool-kernel-shape']);
    expect(codes(diagnosticsOf('onnx.Transpose', [f32(2, 3, 4)], { perm: attrs.ints([0, 2, 2]) }))).toEqual(['ops/transpose-perm']);
    expect(codes(diagnosticsOf('onnx.Concat', [f32(2, 3), f32(4, 5)], { axis: attrs.int(0) }))).toEqual(['ops/concat-dims']);
    const body = new Graph('body');
    const bb = new GraphBuilder(body);
    const state = bb.input('s', f32(2));
    bb.output(bb.op1('onnx.Identity', [state]));
    expect(codes(diagnosticsOf('onnx.Scan', [f32(2), f32(3, 2)], { body: attrs.graph(body), num_scan_inputs: attrs.int(1) }, 1, 16))).toEqual(['ops/body-arity']);
  });
});
