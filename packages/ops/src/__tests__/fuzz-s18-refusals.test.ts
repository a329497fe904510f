/**
 * Inputs the passes-mode fuzzer (session s18) carried past input verification into a pass that then threw a
 * TypeError/RangeError or left the IR invalid: each is now refused as a ModelpassError naming the node — by the
 * verifier where the operands' declared shapes show it, else by inference once a producer's output is typed.
 * ONNX Runtime refuses each of these (Gemm "Dimension mismatch in unification", Sub/Equal "Type parameter (T)
 * ... bound to different types", MaxPool "Input tensor must have at least 3 dimensions").
 */
import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType, verifyModel, type Attribute, type Dim, type DType, type Type } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

const registry = createOpRegistry();
const t = (dtype: DType, ...shape: Dim[]): Type => tensorType(dtype, shape);
const floats = (shape: number[]): Tensor => Tensor.fromValues('float32', shape, new Array(shape.reduce((a, b) => a * b, 1)).fill(1));

/** Node 'n' over graph inputs (types) and constants (tensors); `untyped` lists operands passed through an (untyped) Identity first. */
function single(op: string, operands: readonly (Type | Tensor)[], attributes: Record<string, Attribute> = {}, untyped: readonly number[] = [], opset = 17) {
  const b = new GraphBuilder();
  const inputs = operands.map((operand, i) => {
    const value = operand instanceof Tensor ? b.constant(operand, `c${i}`) : b.input(`x${i}`, operand);
    return untyped.includes(i) ? b.op('onnx.Identity', [value], {}, { outputs: 1, name: `id${i}` })[0]! : value;
  });
  b.output(...b.op(op, inputs, attributes, { outputs: 1, name: 'n' }));
  const model = b.model({ onnx: opset });
  return { model, node: model.graph.nodeList().find((node) => node.name === 'n')! };
}

const verifyErrors = (...args: Parameters<typeof single>): string =>
  verifyModel(single(...args).model, { registry })
    .filter((d) => d.severity === 'error')
    .map((d) => `${d.code}: ${d.reason}`)
    .join('\n');

/** Inference of node 'n': its output shape, or the refusal's reason (a ModelpassError located at 'n'). */
function infer(...args: Parameters<typeof single>): string | readonly Dim[] | null | undefined {
  const { model, node } = single(...args);
  try {
    const [type] = registry.inferNode(node, model)!;
    return type?.kind === 'tensor' ? type.shape : undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ModelpassError);
    const [d] = (error as ModelpassError).diagnostics;
    expect(d!.location?.node).toBe('n');
    return d!.reason;
  }
}

describe('s18 passes-fuzz inputs refused, naming the node', () => {
  it('BatchNormalization with X untyped: a parameter that is not rank 1, or two lengths, refused at verification', () => {
    const x = t('float32', 1, 16, 5, 5);
    const ok = [floats([16]), floats([16]), floats([16])];
    expect(verifyErrors('onnx.BatchNormalization', [x, floats([16]), ...ok], {}, [0])).toBe('');
    expect(verifyErrors('onnx.BatchNormalization', [x, floats([16, 1, 3, 3]), ...ok], {}, [0])).toMatch(/ops\/channel-parameter: 'c1' \[16,1,3,3\] is not one value per channel of 'id0_/);
    expect(verifyErrors('onnx.BatchNormalization', [x, floats([16]), floats([16]), floats([144]), floats([16])], {}, [0])).toMatch(/'c3' \[144\] and 'c1' \[16\] differ in length/);
  });

  it('Gemm: a C that does not broadcast to [M, N] refused at verification, with A untyped', () => {
    const gemm = (c: number[]) => verifyErrors('onnx.Gemm', [t('float32', 'N', 64), floats([10, 64]), floats(c)], { transB: attrs.int(1) }, [0]);
    expect(gemm([10])).toBe('');
    expect(gemm([1, 10])).toBe('');
    expect(gemm([10, 64])).toMatch(/ops\/gemm-c-broadcast: C 'c2' \[10,64\] does not broadcast to Y \[M, N\] = \[\?,10\]/);
  });

  it('Gemm inference: inner dims that differ, and C that does not broadcast, once A is typed', () => {
    expect(infer('onnx.Gemm', [t('float32', 16, 64), floats([10, 64]), floats([10])], { transB: attrs.int(1) })).toEqual([16, 10]);
    expect(infer('onnx.Gemm', [t('float32', 16, 9), floats([10, 64]), floats([10])], { transB: attrs.int(1) })).toMatch(/^inner dimensions differ: A 'x0' \[16,9\] gives K = 9, B 'c1' \[10,64\] gives K = 64 \(transB\)/);
    expect(infer('onnx.Gemm', [t('float32', 16, 64), floats([10, 64]), floats([3, 10])], { transB: attrs.int(1) })).toMatch(/^C 'c2' \[3,10\] does not broadcast to Y \[16,10\]/);
  });

  it('Gemm inference: an A or B typed with a rank other than 2 (a Relu of a [32] weight, a 4-D activation not flattened)', () => {
    expect(infer('onnx.Gemm', [t('float32', 32), floats([10, 64])], { transB: attrs.int(1) })).toBe("A 'x0' has rank 1");
    expect(infer('onnx.Gemm', [t('float32', 'N', 16, 28, 64), floats([10, 64])], { transB: attrs.int(1) })).toBe("A 'x0' has rank 4");
    expect(infer('onnx.Gemm', [t('float32', 'N', 64), floats([64])])).toBe("B 'c1' has rank 1");
    expect(verifyErrors('onnx.Gemm', [t('float32', 'N', 16, 28, 64), floats([10, 64])], { transB: attrs.int(1) }, [0])).toMatch(/ops\/gemm-rank: A 'id0_0' has rank 4/);
  });

  it('Trilu: a k that is not one number (the input itself passed as k) refused by inference and at verification', () => {
    const k = (shape: number[]) => Tensor.fromValues('int64', shape, new Array(shape.reduce((a, b) => a * b, 1)).fill(0n));
    expect(infer('onnx.Trilu', [t('int64', 3, 1, 5), k([])], { upper: attrs.int(0) })).toEqual([3, 1, 5]);
    expect(infer('onnx.Trilu', [t('int64', 3, 1, 5), k([1])])).toEqual([3, 1, 5]);
    expect(infer('onnx.Trilu', [t('int64', 3, 1, 5), t('int64', 3, 1, 5)], { upper: attrs.int(0) })).toBe("k 'x1' [3,1,5] is not one number");
    expect(verifyErrors('onnx.Trilu', [t('int64', 3, 1, 5), t('int64', 3, 1, 5)], {}, [1])).toMatch(/ops\/trilu-k: k 'id1_0' \[3,1,5\] is not one number/);
  });

  it("Tile whose repeats come from a Constant node: a declared output that contradicts them is seen at input, not only once simplify folds the Constant", () => {
    const tile = (declared: number[]) => {
      const b = new GraphBuilder();
      const x = b.input('x', t('float32', 1, 2, 3, 4));
      const repeats = b.op1('onnx.Constant', [], { value: attrs.tensor(Tensor.fromValues('int64', [4], [1n, 2n, 3n, 4n])) }, { name: 'repeats' });
      b.output(b.op1('onnx.Tile', [x, repeats], {}, { name: 'n', types: [t('float32', ...declared)] }));
      return verifyModel(b.model({ onnx: 13 }), { registry }).filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.reason}`).join('\n');
    };
    expect(tile([1, 4, 9, 16])).toBe('');
    expect(tile([16, 9, 4, 1])).toMatch(/verify\/declared-shape: output #0 '.*' is declared float32\[16,9,4,1\] but onnx.Tile gives float32\[1,4,9,16\]/);
  });

  it('refusals by inference are errors of the verifier at input, with the operand reached through an untyped Identity', () => {
    expect(verifyErrors('onnx.Gemm', [t('float32', 16, 9), floats([10, 64])], { transB: attrs.int(1) }, [0])).toMatch(/ops\/gemm-inner-dim: inner dimensions differ: A 'id0_0' \[16,9\] gives K = 9/);
    expect(verifyErrors('onnx.Sub', [t('float32', 3), t('int32', 3)], {}, [1])).toMatch(/ops\/type-constraint: A 'x0' is float32 but B 'id1_0' is int32/);
    expect(verifyErrors('onnx.MaxPool', [t('float32', 32)], { kernel_shape: attrs.ints([2, 2]) }, [0])).toMatch(/ops\/window-rank: needs an input of rank 3 or more/);
  });

  it('Sub and Equal of two element types refused by inference (the verifier sees declared types only)', () => {
    expect(infer('onnx.Sub', [t('float32', 3), t('float32', 3)])).toEqual([3]);
    expect(infer('onnx.Sub', [t('float32', 3), t('int32', 3)])).toBe("A 'x0' is float32 but B 'x1' is int32");
    expect(infer('onnx.Equal', [t('float64', 3), t('int64', 3)])).toBe("A 'x0' is float64 but B 'x1' is int64");
    // Pow's exponent may be of another type (T1, T2).
    expect(infer('onnx.Pow', [t('float32', 3), t('int64', 3)])).toEqual([3]);
  });

  it('NegativeLogLikelihoodLoss/SoftmaxCrossEntropyLoss: target not the input less its class axis, weight of another type, refused at verification and inference', () => {
    const i64 = (...shape: Dim[]) => t('int64', ...shape);
    expect(verifyErrors('onnx.NegativeLogLikelihoodLoss', [t('float32', 5, 3), i64(5)])).toBe('');
    expect(verifyErrors('onnx.NegativeLogLikelihoodLoss', [t('float32', 5, 3), i64(3)])).toBe("ops/loss-operands: target 'x1' [3] does not match input 'x0' [5,3] without its class axis");
    expect(verifyErrors('onnx.SoftmaxCrossEntropyLoss', [t('float32', 3, 5, 3), i64(3)], { reduction: attrs.string('sum') })).toMatch(/target 'x1' \[3\] does not match input 'x0' \[3,5,3\]/);
    expect(verifyErrors('onnx.NegativeLogLikelihoodLoss', [t('float32', 3, 5, 6), i64(3, 6), i64(3, 6)])).toMatch(/weight 'x2' is int64 but input 'x0' is float32/);
    expect(verifyErrors('onnx.NegativeLogLikelihoodLoss', [t('float32', 3, 5, 6), i64(3, 6), t('float32', 4)])).toMatch(/weight 'x2' \[4\] is not one value per class/);
    // Through an untyped Identity the hook cannot see it; inference's refusal (an InferenceRefusal) is the verifier's error.
    expect(verifyErrors('onnx.NegativeLogLikelihoodLoss', [t('float32', 5, 3), i64(3)], {}, [1])).toBe("ops/loss-operands: target 'id1_0' [3] does not match input 'x0' [5,3] without its class axis");
    expect(infer('onnx.NegativeLogLikelihoodLoss', [t('float32', 5, 3), i64(3)])).toMatch(/^target 'x1' \[3\] does not match/);
    expect(infer('onnx.NegativeLogLikelihoodLoss', [t('float32', 'N', 3, 4), i64('N', 4)], { reduction: attrs.string('none') })).toEqual(['N', 4]);
  });

  it('Slice steps of 0 and a ConstantOfShape of a scalar (or negative dims) refused by inference', () => {
    const i64 = (values: number[], shape = [values.length]) => Tensor.fromValues('int64', shape, values.map(BigInt));
    expect(infer('onnx.Slice', [t('float32', 4, 6), i64([0]), i64([4]), i64([0]), i64([1])])).toEqual([4, 6]);
    expect(infer('onnx.Slice', [t('float32', 4, 6), i64([0]), i64([4]), i64([0]), i64([0])])).toBe('steps[0] is 0');
    expect(infer('onnx.ConstantOfShape', [i64([2, 3])])).toEqual([2, 3]);
    expect(infer('onnx.ConstantOfShape', [i64([-3], [])])).toMatch(/^the shape input 'c0' \[\] is not 1-D/);
    expect(infer('onnx.ConstantOfShape', [i64([2, -3])])).toBe('the shape [2,-3] holds -3');
  });

  it('an op below the opset it first appears in (Expand in an opset-6 model) is refused at verification', () => {
    const expand = (opset: number) => verifyErrors('onnx.Expand', [t('float32', 1, 4), Tensor.fromValues('int64', [2], [3n, 4n])], {}, [], opset);
    expect(expand(8)).toBe('');
    expect(expand(6)).toBe('ops/op-version: Expand first appears in opset 8; this model imports opset 6');
  });

  it('MaxPool/AveragePool of rank 1 or 2 refused by inference (was RangeError: Invalid array length)', () => {
    expect(infer('onnx.MaxPool', [t('float32', 32)], { kernel_shape: attrs.ints([2, 2]) })).toMatch(/^needs an input of rank 3 or more .*not rank 1/);
    expect(infer('onnx.AveragePool', [t('float32', 2, 32)], { kernel_shape: attrs.ints([2]) })).toMatch(/not rank 2/);
    expect(infer('onnx.MaxPool', [t('float32', 1, 2, 8)], { kernel_shape: attrs.ints([2]) })).toEqual([1, 2, 7]);
  });
});
