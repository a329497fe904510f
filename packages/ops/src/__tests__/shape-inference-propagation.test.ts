// inferShapes' data propagation: Constant-node outputs, constant evaluation, and the symbolic
// value rules (Shape, Size, Gather, Slice, Concat, Unsqueeze, Squeeze, Cast, Reshape, arithmetic)
// with the consumers that read them (Reshape, Expand, Tile, ConstantOfShape, Range).
// ConstantOfShape serves as a probe: its output shape is the values of its input.
import { attrs, GraphBuilder, Tensor, tensorType, type Dim, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

const i64 = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));
const i64Scalar = (value: number) => Tensor.fromValues('int64', [], [BigInt(value)]);

/** A graph with input `x` of `shape`; `build` adds nodes and returns the probed value. */
function probe(shape: readonly Dim[], build: (b: GraphBuilder, x: Value) => Value, opset = 17): Value {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', shape));
  const out = build(b, x);
  b.output(out);
  const result = inferShapes(b.model({ onnx: opset }));
  expect(result.diagnostics).toEqual([]);
  return out;
}

/** ConstantOfShape(values): its shape shows the propagated values. */
const valuesOf = (b: GraphBuilder, v: Value) => b.op1('onnx.ConstantOfShape', [v]);
const constantNode = (b: GraphBuilder, t: Tensor) => b.op1('onnx.Constant', [], { value: attrs.tensor(t) });

describe('inferShapes: constants', () => {
  it('treats Constant-node outputs as constants (Reshape target, Resize scales)', () => {
    const reshaped = probe([2, 3, 4], (b, x) => b.op1('onnx.Reshape', [x, constantNode(b, i64([4, -1]))]));
    expect(reshaped.type).toEqual(tensorType('float32', [4, 6]));
    const resized = probe([1, 3, 8, 8], (b, x) => {
      const scales = constantNode(b, Tensor.fromValues('float32', [4], [1, 1, 2, 0.5]));
      return b.op1('onnx.Resize', [x, null, scales], { mode: attrs.string('nearest') });
    });
    expect(resized.type).toEqual(tensorType('float32', [1, 3, 16, 4]));
  });

  it('evaluates small nodes whose inputs are all constant with the reference kernels', () => {
    const out = probe([2, 12], (b, x) => {
      const base = constantNode(b, i64([2, 3]));
      const doubled = b.op1('onnx.Mul', [base, b.constant(i64([1, 2]), 'twos')]);
      const target = b.op1('onnx.Concat', [doubled, b.constant(i64([-1]), 'rest')], { axis: attrs.int(0) });
      return b.op1('onnx.Reshape', [x, target]);
    });
    expect(out.type).toEqual(tensorType('float32', [2, 6, 2]));
    const range = probe([5], (b) => {
      const limit = b.op1('onnx.Add', [constantNode(b, i64Scalar(3)), constantNode(b, i64Scalar(4))]);
      return b.op1('onnx.Range', [b.constant(i64Scalar(0), 's'), limit, b.constant(i64Scalar(2), 'd')]);
    });
    expect(range.type).toEqual(tensorType('int64', [4]));
  });

  it('does not materialize large constant results (the type is still inferred)', () => {
    const big = probe([1], (b) => b.op1('onnx.ConstantOfShape', [b.constant(i64([1000, 1000]), 'shape')]));
    expect(big.type).toEqual(tensorType('float32', [1000, 1000]));
  });
});

describe('inferShapes: symbolic value rules', () => {
  it('Shape (with start/end) gives the dims, symbols included', () => {
    expect(probe(['N', 3, 'H'], (b, x) => valuesOf(b, b.op1('onnx.Shape', [x]))).type).toEqual(tensorType('float32', ['N', 3, 'H']));
    expect(probe(['N', 3, 'H'], (b, x) => valuesOf(b, b.op1('onnx.Shape', [x], { start: attrs.int(1), end: attrs.int(-1) }))).type).toEqual(
      tensorType('float32', [3]),
    );
  });

  it('Size multiplies known dims and keeps a lone symbol', () => {
    const size = (shape: Dim[]) =>
      probe(shape, (b, x) => valuesOf(b, b.op1('onnx.Unsqueeze', [b.op1('onnx.Size', [x]), b.constant(i64([0]), 'axes')]))).type;
    expect(size([2, 3, 4])).toEqual(tensorType('float32', [24]));
    expect(size(['N', 1, 1])).toEqual(tensorType('float32', ['N']));
    expect(size(['N', 2])).toEqual(tensorType('float32', [null]));
  });

  it('Gather picks dims by scalar, vector and negative indices', () => {
    const gathered = probe(['N', 3, 'W'], (b, x) => valuesOf(b, b.op1('onnx.Gather', [b.op1('onnx.Shape', [x]), b.constant(i64([-1, 0]), 'idx')])));
    expect(gathered.type).toEqual(tensorType('float32', ['W', 'N']));
    const scalar = probe(['N', 3], (b, x) => {
      const picked = b.op1('onnx.Gather', [b.op1('onnx.Shape', [x]), b.constant(i64Scalar(0), 'idx')]);
      return valuesOf(b, b.op1('onnx.Unsqueeze', [picked, b.constant(i64([0]), 'axes')]));
    });
    expect(scalar.type).toEqual(tensorType('float32', ['N']));
  });

  it('Slice takes windows with steps and negative bounds', () => {
    const sliced = (starts: number, ends: number | bigint, steps: number) =>
      probe(['A', 'B', 'C', 'D'], (b, x) => {
        const shape = b.op1('onnx.Shape', [x]);
        return valuesOf(b, b.op1('onnx.Slice', [shape, b.constant(i64([starts]), 's'), b.constant(Tensor.fromValues('int64', [1], [BigInt(ends)]), 'e'), b.constant(i64([0]), 'a'), b.constant(i64([steps]), 'st')]));
      }).type;
    expect(sliced(1, 3, 1)).toEqual(tensorType('float32', ['B', 'C']));
    expect(sliced(-1, -5, -2)).toEqual(tensorType('float32', ['D', 'B']));
    expect(sliced(0, 9223372036854775807n, 2)).toEqual(tensorType('float32', ['A', 'C']));
  });

  it('Concat, Unsqueeze, Squeeze and Cast keep the values', () => {
    const joined = probe(['N', 8], (b, x) => {
      const n = b.op1('onnx.Gather', [b.op1('onnx.Shape', [x]), b.constant(i64Scalar(0), 'idx')]);
      const n1 = b.op1('onnx.Unsqueeze', [n, b.constant(i64([0]), 'axes')]);
      const back = b.op1('onnx.Squeeze', [n1, b.constant(i64([0]), 'axes0')]);
      const again = b.op1('onnx.Unsqueeze', [back, b.constant(i64([0]), 'axes1')]);
      const cast = b.op1('onnx.Cast', [again], { to: attrs.int(6) }); // int32
      const back64 = b.op1('onnx.Cast', [cast], { to: attrs.int(7) });
      return valuesOf(b, b.op1('onnx.Concat', [back64, b.constant(i64([2, 4]), 'rest')], { axis: attrs.int(0) }));
    });
    expect(joined.type).toEqual(tensorType('float32', ['N', 2, 4]));
  });

  it('Reshape of a value list to 1-D keeps it', () => {
    const out = probe(['N', 3], (b, x) => valuesOf(b, b.op1('onnx.Reshape', [b.op1('onnx.Shape', [x]), b.constant(i64([-1]), 't')])));
    expect(out.type).toEqual(tensorType('float32', ['N', 3]));
  });

  it('arithmetic computes numbers and keeps symbols only through identities', () => {
    const arith = (op: string, other: number[]) =>
      probe(['N', 6], (b, x) => valuesOf(b, b.op1(op, [b.op1('onnx.Shape', [x]), b.constant(i64(other), 'k')]))).type;
    expect(arith('onnx.Add', [0, 2])).toEqual(tensorType('float32', ['N', 8]));
    expect(arith('onnx.Sub', [0, 1])).toEqual(tensorType('float32', ['N', 5]));
    expect(arith('onnx.Mul', [1, 2])).toEqual(tensorType('float32', ['N', 12]));
    expect(arith('onnx.Mul', [2, 1])).toEqual(tensorType('float32', [null, 6]));
    expect(arith('onnx.Div', [1, 4])).toEqual(tensorType('float32', ['N', 1]));
    expect(arith('onnx.Max', [0, 7])).toEqual(tensorType('float32', [null, 7]));
    expect(arith('onnx.Min', [0, 7])).toEqual(tensorType('float32', [null, 6]));
    // x - x is 0 and x / x is 1 for the same symbol
    const self = probe(['N'], (b, x) => {
      const s = b.op1('onnx.Shape', [x]);
      return valuesOf(b, b.op1('onnx.Concat', [b.op1('onnx.Sub', [s, s]), b.op1('onnx.Div', [s, s])], { axis: attrs.int(0) }));
    });
    expect(self.type).toEqual(tensorType('float32', [0, 1]));
  });
});

describe('inferShapes: consumers of propagated values', () => {
  it('Reshape resolves a computed target with symbols (the batch survives)', () => {
    const out = probe(['N', 200, 1, 1], (b, x) => {
      const batch = b.op1('onnx.Slice', [b.op1('onnx.Shape', [x]), b.constant(i64([0]), 's'), b.constant(i64([1]), 'e')]);
      const cast = b.op1('onnx.Cast', [batch], { to: attrs.int(7) });
      const target = b.op1('onnx.Concat', [cast, constantNode(b, i64([-1]))], { axis: attrs.int(0) });
      return b.op1('onnx.Reshape', [x, target]);
    });
    expect(out.type).toEqual(tensorType('float32', ['N', 200]));
  });

  it('Expand and Tile read symbolic targets; ConstantOfShape builds states from a computed shape', () => {
    const expanded = probe(['N', 1], (b, x) => {
      const target = b.op1('onnx.Concat', [b.op1('onnx.Shape', [x], { end: attrs.int(1) }), b.constant(i64([5]), 'five')], { axis: attrs.int(0) });
      return b.op1('onnx.Expand', [x, target]);
    });
    expect(expanded.type).toEqual(tensorType('float32', ['N', 5]));
    const tiled = probe(['N', 3], (b, x) => {
      const repeats = b.op1('onnx.Concat', [b.constant(i64([1]), 'one'), b.op1('onnx.Shape', [x], { start: attrs.int(0), end: attrs.int(1) })], { axis: attrs.int(0) });
      return b.op1('onnx.Tile', [x, repeats]);
    });
    expect(tiled.type).toEqual(tensorType('float32', ['N', null]));
    const state = probe(['B', 64], (b, x) => {
      const batch = b.op1('onnx.Gather', [b.op1('onnx.Shape', [x]), b.constant(i64([0]), 'idx')]);
      const shape = b.op1('onnx.Concat', [b.constant(i64([2]), 'layers'), batch, b.constant(i64([64]), 'hidden')], { axis: attrs.int(0) });
      return b.op1('onnx.ConstantOfShape', [shape]);
    });
    expect(state.type).toEqual(tensorType('float32', [2, 'B', 64]));
  });

  it('MatMul of unknown dims keeps them unknown (no dim invented by broadcasting)', () => {
    const out = probe([null, null, 4, 5], (b, x) => b.op1('onnx.MatMul', [x, b.op1('onnx.Transpose', [x], { perm: attrs.ints([0, 1, 3, 2]) })]));
    expect(out.type).toEqual(tensorType('float32', [null, null, 4, 4]));
  });
});

describe('inferShapes: selections of fully known values (propagated by their rule, not their kernel)', () => {
  it('Gather, Unsqueeze, Squeeze and Concat of static dims and constants resolve a Reshape and a probe', () => {
    const reshaped = probe([2, 3, 4], (b, x) => {
      const shape = b.op1('onnx.Shape', [x]);
      const last = b.op1('onnx.Unsqueeze', [b.op1('onnx.Gather', [shape, b.constant(i64Scalar(-1), 'last')]), b.constant(i64([0]), 'axes')]);
      const first = b.op1('onnx.Squeeze', [b.op1('onnx.Gather', [shape, b.constant(i64([0]), 'first')]), b.constant(i64([0]), 'axes0')]);
      const firstAgain = b.op1('onnx.Unsqueeze', [first, b.constant(i64([-1]), 'axes1')]);
      return b.op1('onnx.Reshape', [x, b.op1('onnx.Concat', [last, firstAgain, b.constant(i64([-1]), 'rest')], { axis: attrs.int(0) })]);
    });
    expect(reshaped.type).toEqual(tensorType('float32', [4, 2, 3]));
    const int32 = probe([1], (b) => {
      const picked = b.op1('onnx.Gather', [b.constant(Tensor.fromValues('int32', [3], [5, 7, 9]), 'dims'), b.constant(i64([2, 0]), 'idx')]);
      return valuesOf(b, b.op1('onnx.Cast', [picked], { to: attrs.int(7) }));
    });
    expect(int32.type).toEqual(tensorType('float32', [9, 5]));
  });

  it('integer arithmetic on static dims (a channel shuffle: C / groups) resolves a Reshape; quotients truncate toward zero', () => {
    const split = probe([1, 6, 4, 4], (b, x) => {
      const shape = b.op1('onnx.Shape', [x]);
      const channels = b.op1('onnx.Gather', [shape, b.constant(i64Scalar(1), 'c')]);
      const perGroup = b.op1('onnx.Div', [channels, b.constant(i64Scalar(2), 'groups')]);
      const dims = [b.constant(i64([1, 2]), 'lead'), b.op1('onnx.Unsqueeze', [perGroup, b.constant(i64([0]), 'axes')]), b.op1('onnx.Slice', [shape, b.constant(i64([2]), 's'), b.constant(i64([4]), 'e')])];
      return b.op1('onnx.Reshape', [x, b.op1('onnx.Concat', dims, { axis: attrs.int(0) })]);
    });
    expect(split.type).toEqual(tensorType('float32', [1, 2, 3, 4, 4]));
    const quotient = probe([1], (b) => {
      const q = b.op1('onnx.Div', [b.constant(i64([-7, 7]), 'a'), b.constant(i64([2, -2]), 'b')]);
      return valuesOf(b, b.op1('onnx.Add', [b.op1('onnx.Mul', [q, b.constant(i64Scalar(-1), 'minus')]), b.constant(i64([1, 2]), 'c')]));
    });
    expect(quotient.type).toEqual(tensorType('float32', [4, 5]));
  });

  it('an int64 beyond 2^53 stays exact (a number cannot hold 2^53 + 1: the kernel computes it)', () => {
    const out = probe([1], (b) => {
      const big = b.constant(Tensor.fromValues('int64', [2], [2n ** 53n + 1n, 3n]), 'big');
      const picked = b.op1('onnx.Unsqueeze', [b.op1('onnx.Gather', [big, b.constant(i64Scalar(0), 'idx')]), b.constant(i64([0]), 'axes')]);
      return valuesOf(b, b.op1('onnx.Sub', [picked, b.constant(Tensor.fromValues('int64', [1], [2n ** 53n]), 'base')]));
    });
    expect(out.type).toEqual(tensorType('float32', [1]));
  });
});
