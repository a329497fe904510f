/**
 * Verify hooks on attributes and constant operands ONNX Runtime refuses (QA s15 round 8: each of these
 * models was converted to .onnx, .tflite and .pt with exit 0 — ArgMax/Softmax/Flatten/CumSum axis 9 of a
 * rank-4 input, DepthToSpace blocksize 0 or 3 over 4 channels, ConstantOfShape [-1], Range delta 0 / to +Inf,
 * Unsqueeze axes [0,0], Cast to=999, MaxPool kernel_shape [0,0], ReduceMean axes [7], Slice axes [1,1], Pad of 2 entries
 * for rank 4, Tile repeats / Expand dims / OneHot depth below 0).
 */
import { attrs, GraphBuilder, Tensor, tensorType, verifyModel, type Attribute, type Diagnostic, type Type } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

const registry = createOpRegistry();
const f32 = (...shape: number[]): Type => tensorType('float32', shape);
const ints = (...values: number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map(BigInt));
const scalar = (dtype: 'int64' | 'float32', value: number): Tensor => Tensor.fromValues(dtype, [], [dtype === 'int64' ? BigInt(value) : value]);

/** The errors the verifier gives for node 'n' of `op` over input `x` (none: no graph input) and constant operands. */
function errorsOf(op: string, x: Type | null, constants: readonly Tensor[], attributes: Record<string, Attribute> = {}, opset = 17): Diagnostic[] {
  const b = new GraphBuilder();
  const inputs = [...(x ? [b.input('x', x)] : []), ...constants.map((tensor, i) => b.constant(tensor, `c${i}`))];
  b.output(...b.op(op, inputs, attributes, { outputs: 1, name: 'n' }));
  return verifyModel(b.model({ onnx: opset }), { registry }).filter((d) => d.severity === 'error');
}

const reasons = (diagnostics: readonly Diagnostic[]): string => diagnostics.map((d) => `${d.code}: ${d.reason} (expected ${d.expected})`).join('\n');

describe('axis attributes outside the input rank', () => {
  it('ArgMax, Softmax (default axis by opset), LayerNormalization: [-r, r-1]', () => {
    expect(reasons(errorsOf('onnx.ArgMax', f32(1, 4, 8, 8), [], { axis: attrs.int(9) }))).toMatch(/ops\/axis-range: axis 9 is out of range for 'x' \[1,4,8,8\] of rank 4 \(expected an axis in \[-4, 3\]\)/);
    expect(reasons(errorsOf('onnx.Softmax', f32(1, 4), [], { axis: attrs.int(-3) }))).toMatch(/axis -3 is out of range/);
    expect(reasons(errorsOf('onnx.LogSoftmax', f32(4), [], {}, 11))).toMatch(/axis 1 is out of range for 'x' \[4\] of rank 1/);
    expect(errorsOf('onnx.LogSoftmax', f32(4), [], {}, 13)).toEqual([]);
    expect(errorsOf('onnx.ArgMax', f32(1, 4, 8, 8), [], { axis: attrs.int(-4) })).toEqual([]);
    expect(reasons(errorsOf('onnx.LayerNormalization', f32(2, 3), [Tensor.fromValues('float32', [3], [1, 1, 1])], { axis: attrs.int(2) }))).toMatch(/axis 2 is out of range/);
  });

  it('Flatten: [-r, r] (axis r gives [N, 1])', () => {
    expect(reasons(errorsOf('onnx.Flatten', f32(1, 4, 8, 8), [], { axis: attrs.int(9) }))).toMatch(/axis 9 is out of range .* \(expected an axis in \[-4, 4\]\)/);
    expect(errorsOf('onnx.Flatten', f32(1, 4, 8, 8), [], { axis: attrs.int(4) })).toEqual([]);
  });

  it('CumSum: a constant axis input', () => {
    expect(reasons(errorsOf('onnx.CumSum', f32(2, 3), [scalar('int64', 2)]))).toMatch(/axis 2 is out of range for 'x' \[2,3\] of rank 2/);
    expect(errorsOf('onnx.CumSum', f32(2, 3), [scalar('int64', -2)])).toEqual([]);
  });
});

describe('blocksize, ConstantOfShape and Range operands', () => {
  it('DepthToSpace / SpaceToDepth: blocksize below 1, or not dividing the dims it splits', () => {
    expect(reasons(errorsOf('onnx.DepthToSpace', f32(1, 4, 8, 8), [], { blocksize: attrs.int(0) }))).toMatch(/ops\/blocksize: blocksize is 0/);
    expect(reasons(errorsOf('onnx.DepthToSpace', f32(1, 4, 8, 8), [], { blocksize: attrs.int(3) }))).toMatch(/axis 1 of 'x' \[1,4,8,8\] has 4 elements, not a multiple of 9 \(blocksize 3\)/);
    expect(reasons(errorsOf('onnx.SpaceToDepth', f32(1, 4, 8, 6), [], { blocksize: attrs.int(4) }))).toMatch(/axis 3 of 'x' \[1,4,8,6\] has 6 elements, not a multiple of 4/);
    expect(errorsOf('onnx.DepthToSpace', f32(1, 8, 3, 3), [], { blocksize: attrs.int(2) })).toEqual([]);
  });

  it('ConstantOfShape: a negative dim', () => {
    expect(reasons(errorsOf('onnx.ConstantOfShape', null, [ints(2, -1)]))).toMatch(/ops\/negative-dim: the shape \[2,-1\] holds -1/);
    expect(errorsOf('onnx.ConstantOfShape', null, [ints(2, 0)])).toEqual([]);
  });

  it('Range: delta 0 and bounds that are not finite', () => {
    expect(reasons(errorsOf('onnx.Range', null, [scalar('float32', 0), scalar('float32', 10), scalar('float32', 0)]))).toMatch(/ops\/range-delta: delta is 0, so the range never ends/);
    expect(reasons(errorsOf('onnx.Range', null, [scalar('float32', 0), scalar('float32', Infinity), scalar('float32', 1)]))).toMatch(/ops\/range-bound: limit is Infinity/);
    expect(reasons(errorsOf('onnx.Range', null, [scalar('float32', NaN), scalar('float32', 1), scalar('float32', 1)]))).toMatch(/start is NaN/);
    expect(errorsOf('onnx.Range', null, [scalar('int64', 0), scalar('int64', 10), scalar('int64', 3)])).toEqual([]);
  });
});

describe('Unsqueeze axes, Cast targets, pooling windows', () => {
  it('Unsqueeze: an axis named twice or outside the output rank', () => {
    expect(reasons(errorsOf('onnx.Unsqueeze', f32(2, 3), [ints(0, 0)], {}, 13))).toMatch(/ops\/unsqueeze-axes: axis 0 is named twice in \[0,0\]/);
    expect(reasons(errorsOf('onnx.Unsqueeze', f32(2, 3), [ints(-1, 3)], {}, 13))).toMatch(/axis 3 is named twice in \[-1,3\]/);
    expect(reasons(errorsOf('onnx.Unsqueeze', f32(2, 3), [ints(4)], {}, 13))).toMatch(/ops\/axis-range: axis 4 is out of range for an output of rank 3/);
    expect(errorsOf('onnx.Unsqueeze', f32(2, 3), [ints(0, -1)], {}, 13)).toEqual([]);
  });

  it('Cast: a to that is no data type', () => {
    expect(reasons(errorsOf('onnx.Cast', f32(2), [], { to: attrs.int(999) }))).toMatch(/ops\/cast-to: to is 999, which is no TensorProto data type/);
    expect(errorsOf('onnx.Cast', f32(2), [], { to: attrs.int(7) })).toEqual([]);
  });

  it('MaxPool / AveragePool: a window of 0', () => {
    expect(reasons(errorsOf('onnx.MaxPool', f32(1, 1, 4, 4), [], { kernel_shape: attrs.ints([0, 2]) }))).toMatch(/ops\/pool-kernel-shape: kernel_shape holds 0/);
    expect(errorsOf('onnx.AveragePool', f32(1, 1, 4, 4), [], { kernel_shape: attrs.ints([2, 2]) })).toEqual([]);
  });
});

describe('reduction and Slice axes, Pad lengths, negative Tile/Expand/OneHot operands', () => {
  it('ReduceMean: an axis outside the rank (attribute, opset 13); ReduceSum: a repeated axis (input)', () => {
    expect(reasons(errorsOf('onnx.ReduceMean', f32(1, 4, 8, 8), [], { axes: attrs.ints([7]) }, 13))).toMatch(/ops\/axis-range: axis 7 is out of range for 'x' \[1,4,8,8\] of rank 4/);
    expect(reasons(errorsOf('onnx.ReduceSum', f32(2, 3), [ints(1, -1)], {}, 13))).toMatch(/ops\/repeated-axis: axis 1 is named twice in \[1,-1\]/);
    expect(errorsOf('onnx.ReduceSum', f32(2, 3), [ints(0, -1)], {}, 13)).toEqual([]);
  });

  it('Slice: a repeated axis', () => {
    expect(reasons(errorsOf('onnx.Slice', f32(2, 3), [ints(0, 0), ints(1, 1), ints(1, 1)]))).toMatch(/axis 1 is named twice in \[1,1\]/);
    expect(errorsOf('onnx.Slice', f32(2, 3), [ints(0, 0), ints(1, 1), ints(0, 1)])).toEqual([]);
  });

  it('Pad: a pads list that is not two per dim', () => {
    expect(reasons(errorsOf('onnx.Pad', f32(1, 4, 8, 8), [ints(1, 1)]))).toMatch(/ops\/pad-length: pads has 2 entries for 'x' \[1,4,8,8\] of rank 4 \(expected 8 entries/);
    expect(errorsOf('onnx.Pad', f32(2, 3), [ints(0, 1, 0, 1)])).toEqual([]);
  });

  it('Tile, Expand, OneHot: negative repeats, dims, depth', () => {
    expect(reasons(errorsOf('onnx.Tile', f32(2, 3), [ints(1, -1)]))).toMatch(/ops\/negative-operand: repeats \[1,-1\] holds -1/);
    expect(reasons(errorsOf('onnx.Expand', f32(2, 3), [ints(-1, 3)]))).toMatch(/the shape \[-1,3\] holds -1/);
    expect(reasons(errorsOf('onnx.OneHot', tensorType('int64', [3]), [scalar('int64', -3), Tensor.fromValues('float32', [2], [0, 1])]))).toMatch(/depth \[-3\] holds -3 \(expected values of 1 or more\)/);
    expect(errorsOf('onnx.Tile', f32(2, 3), [ints(1, 0)])).toEqual([]);
    expect(errorsOf('onnx.Expand', f32(2, 1), [ints(2, 3)])).toEqual([]);
  });
});
