/**
 * Verify hooks on operands ONNX Runtime refuses at load or at run time (QA s16: each of these models was
 * converted with exit 0 — BatchNormalization/InstanceNormalization parameters of 3 values over 4 channels,
 * a PRelu slope [3] over [1,4,5,5], Mod of floats with fmod=0, Resize with neither scales nor sizes or a size
 * of 0, LRN size 0, Einsum 'ij,jk-<ik', GatherElements/ScatterElements/ScatterND indices past their dims).
 */
import { attrs, GraphBuilder, Tensor, tensorType, verifyModel, type Attribute, type Diagnostic, type Type } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

const registry = createOpRegistry();
const f32 = (...shape: number[]): Type => tensorType('float32', shape);
const ints = (shape: number[], values: number[]): Tensor => Tensor.fromValues('int64', shape, values.map(BigInt));
const floats = (shape: number[], values?: number[]): Tensor => Tensor.fromValues('float32', shape, values ?? new Array(shape.reduce((a, b) => a * b, 1)).fill(1));

type Operand = Type | Tensor | null;

/** The errors of node 'n' of `op` over graph inputs (types), constants (tensors) and absent operands (null). */
function errorsOf(op: string, operands: readonly Operand[], attributes: Record<string, Attribute> = {}, opset = 17): Diagnostic[] {
  const b = new GraphBuilder();
  const inputs = operands.map((operand, i) => (operand === null ? null : operand instanceof Tensor ? b.constant(operand, `c${i}`) : b.input(`x${i}`, operand)));
  b.output(...b.op(op, inputs, attributes, { outputs: 1, name: 'n' }));
  return verifyModel(b.model({ onnx: opset }), { registry }).filter((d) => d.severity === 'error');
}

const reasons = (diagnostics: readonly Diagnostic[]): string => diagnostics.map((d) => `${d.code}: ${d.reason} (expected ${d.expected})`).join('\n');

describe('per-channel parameters', () => {
  it('BatchNormalization: scale, B, mean and var of one value per channel', () => {
    const ok = [floats([4]), floats([4]), floats([4]), floats([4])];
    expect(errorsOf('onnx.BatchNormalization', [f32(1, 4, 5, 5), ...ok])).toEqual([]);
    expect(reasons(errorsOf('onnx.BatchNormalization', [f32(1, 4, 5, 5), floats([3]), ...ok.slice(1)]))).toMatch(
      /ops\/channel-parameter: 'c1' \[3\] is not one value per channel of 'x0' \[1,4,5,5\] \(expected a rank-1 tensor of 4 values/,
    );
    expect(reasons(errorsOf('onnx.BatchNormalization', [f32(1, 4, 5, 5), ...ok.slice(0, 2), floats([5]), floats([4])]))).toMatch(/'c3' \[5\] is not one value per channel/);
    expect(reasons(errorsOf('onnx.BatchNormalization', [f32(1, 4, 5, 5), floats([4, 1]), ...ok.slice(1)]))).toMatch(/'c1' \[4,1\] is not one value per channel/);
  });

  it('InstanceNormalization: scale and B of one value per channel', () => {
    expect(errorsOf('onnx.InstanceNormalization', [f32(1, 4, 5, 5), floats([4]), floats([4])])).toEqual([]);
    expect(reasons(errorsOf('onnx.InstanceNormalization', [f32(1, 4, 5, 5), floats([3]), floats([4])]))).toMatch(/'c1' \[3\] is not one value per channel of 'x0' \[1,4,5,5\]/);
  });
});

describe('PRelu slope, Mod fmod, LRN size', () => {
  it('PRelu (opset 7+): a slope that broadcasts to X one way; opset 6 per-channel slopes are not checked', () => {
    expect(errorsOf('onnx.PRelu', [f32(1, 4, 5, 5), floats([4, 1, 1])])).toEqual([]);
    expect(errorsOf('onnx.PRelu', [f32(1, 4, 5, 5), floats([1])])).toEqual([]);
    expect(reasons(errorsOf('onnx.PRelu', [f32(1, 4, 5, 5), floats([3])]))).toMatch(/ops\/prelu-slope: slope 'c1' \[3\] does not broadcast to 'x0' \[1,4,5,5\]/);
    expect(reasons(errorsOf('onnx.PRelu', [f32(1, 4, 5, 5), floats([2, 1, 4, 5, 5])]))).toMatch(/slope 'c1' \[2,1,4,5,5\] does not broadcast/);
    expect(errorsOf('onnx.PRelu', [f32(2, 3, 4), floats([3])], {}, 6)).toEqual([]);
  });

  it('Mod: fmod=1 for floats, either for integers', () => {
    expect(reasons(errorsOf('onnx.Mod', [f32(2, 3), f32(2, 3)]))).toMatch(/ops\/mod-fmod: Mod of float32 operands has fmod=0 \(expected fmod=1 for floating-point operands/);
    expect(errorsOf('onnx.Mod', [f32(2, 3), f32(2, 3)], { fmod: attrs.int(1) })).toEqual([]);
    expect(errorsOf('onnx.Mod', [tensorType('int32', [2, 3]), tensorType('int32', [2, 3])])).toEqual([]);
  });

  it('LRN: size of 1 or more', () => {
    expect(reasons(errorsOf('onnx.LRN', [f32(1, 4, 5, 5)], { size: attrs.int(0) }))).toMatch(/ops\/lrn-size: size is 0/);
    expect(errorsOf('onnx.LRN', [f32(1, 4, 5, 5)], { size: attrs.int(2) })).toEqual([]);
  });
});

describe('Resize scales and sizes', () => {
  it('refuses neither (absent or empty scales, no sizes) and both; reads either alone', () => {
    expect(reasons(errorsOf('onnx.Resize', [f32(1, 1, 4, 4)], {}, 13))).toMatch(/ops\/resize-target: Resize has neither scales nor sizes/);
    expect(reasons(errorsOf('onnx.Resize', [f32(1, 1, 4, 4), null, floats([0])], {}, 13))).toMatch(/neither scales nor sizes/);
    expect(reasons(errorsOf('onnx.Resize', [f32(1, 1, 4, 4), null, floats([4], [1, 1, 2, 2]), ints([4], [1, 1, 8, 8])], {}, 13))).toMatch(/both scales and sizes/);
    expect(errorsOf('onnx.Resize', [f32(1, 1, 4, 4), null, floats([4], [1, 1, 2, 2])], {}, 13)).toEqual([]);
    expect(errorsOf('onnx.Resize', [f32(1, 1, 4, 4), null, floats([0]), ints([4], [1, 1, 8, 8])], {}, 13)).toEqual([]);
    expect(errorsOf('onnx.Resize', [f32(1, 1, 4, 4), null, null, ints([4], [1, 1, 8, 8])], {}, 13)).toEqual([]);
  });

  it('refuses scales or sizes of 0 or less', () => {
    expect(reasons(errorsOf('onnx.Resize', [f32(1, 1, 4, 4), null, floats([4], [1, 1, 0, 2])], {}, 13))).toMatch(/scales \[1,1,0,2\] hold 0 \(expected finite scales above 0\)/);
    expect(reasons(errorsOf('onnx.Resize', [f32(1, 1, 4, 4), null, null, ints([4], [1, 1, -2, 8])], {}, 13))).toMatch(/sizes \[1,1,-2,8\] hold -2 \(expected sizes of 1 or more\)/);
  });
});

describe('Einsum equation', () => {
  it('refuses an equation that does not parse for the operands; reads a good one', () => {
    expect(errorsOf('onnx.Einsum', [f32(2, 3), f32(3, 4)], { equation: attrs.string('ij,jk->ik') })).toEqual([]);
    expect(errorsOf('onnx.Einsum', [f32(2, 3, 5), f32(3, 4)], { equation: attrs.string('...j,jk') })).toEqual([]);
    expect(reasons(errorsOf('onnx.Einsum', [f32(2, 3), f32(3, 4)], { equation: attrs.string('ij,jk-<ik') }))).toMatch(/ops\/einsum-equation: equation 'ij,jk-<ik': einsum label '-' is not a letter/);
    expect(reasons(errorsOf('onnx.Einsum', [f32(2, 3), f32(3, 4)], { equation: attrs.string('ij,jk,kl->il') }))).toMatch(/names 3 operands \(expected 2 operands/);
    expect(reasons(errorsOf('onnx.Einsum', [f32(2, 3), f32(3, 4)], { equation: attrs.string('ijk,jk->ik') }))).toMatch(/einsum term 'ijk' has 3 labels for an operand of rank 2/);
  });
});

describe('constant indices past their dims', () => {
  it('GatherElements and ScatterElements: indices inside the axis (negative ones count from the end)', () => {
    expect(errorsOf('onnx.GatherElements', [f32(2, 3), ints([2, 2], [0, -3, 2, 1])], { axis: attrs.int(1) })).toEqual([]);
    expect(reasons(errorsOf('onnx.GatherElements', [f32(2, 3), ints([2, 2], [0, 5, 1, 2])], { axis: attrs.int(1) }))).toMatch(
      /ops\/element-index: index 5 is outside axis 1 of 'x0' \[2,3\] \(expected indices in \[-3, 2\]\)/,
    );
    expect(reasons(errorsOf('onnx.ScatterElements', [f32(4, 3), ints([1, 3], [9, 0, 0]), floats([1, 3])]))).toMatch(/index 9 is outside axis 0 of 'x0' \[4,3\] \(expected indices in \[-4, 3\]\)/);
    expect(errorsOf('onnx.ScatterElements', [f32(4, 3), ints([1, 3], [3, -4, 0]), floats([1, 3])])).toEqual([]);
  });

  it('ScatterND: each index tuple inside the dims it addresses, tuples no longer than the rank', () => {
    expect(errorsOf('onnx.ScatterND', [f32(4, 3), ints([2, 2], [3, 2, -4, 0]), floats([2])])).toEqual([]);
    expect(reasons(errorsOf('onnx.ScatterND', [f32(4, 3), ints([1, 1], [7]), floats([1, 3])]))).toMatch(/ops\/scatter-nd-index: index 7 \(entry 0 of tuple 0\) is outside axis 0 of 'x0' \[4,3\]/);
    expect(reasons(errorsOf('onnx.ScatterND', [f32(4, 3), ints([2, 2], [0, 0, 1, 3]), floats([2])]))).toMatch(/index 3 \(entry 1 of tuple 1\) is outside axis 1/);
    expect(reasons(errorsOf('onnx.ScatterND', [f32(4), ints([1, 2], [0, 0]), floats([1])]))).toMatch(/index tuples of 'c1' \[1,2\] have 2 entries for data of rank 1/);
  });
});

// QA s16, new ground: single-node models ONNX Runtime refuses that converted with exit 0.
describe('Expand, Tile, Slice, LayerNormalization, Conv bias, InstanceNormalization rank, pool windows', () => {
  it('Expand: a shape that does not broadcast with the input', () => {
    expect(reasons(errorsOf('onnx.Expand', [f32(3, 4), ints([2], [2, 5])]))).toMatch(/ops\/expand-shape: the shape \[2,5\] does not broadcast with 'x0' \[3,4\] \(3 against 2\)/);
    expect(errorsOf('onnx.Expand', [f32(3, 1), ints([3], [2, 3, 5])])).toEqual([]);
  });

  it('Tile: one repeat per dim', () => {
    expect(reasons(errorsOf('onnx.Tile', [f32(3, 4), ints([1], [2])]))).toMatch(/ops\/tile-repeats: repeats \[2\] has 1 entries for 'x0' \[3,4\] of rank 2/);
    expect(errorsOf('onnx.Tile', [f32(3, 4), ints([2], [2, 1])])).toEqual([]);
  });

  it('Slice: starts, ends, axes and steps of one length', () => {
    expect(reasons(errorsOf('onnx.Slice', [f32(3, 4), ints([2], [0, 0]), ints([1], [1]), ints([1], [0])]))).toMatch(/ops\/slice-lengths: starts has 2, ends has 1, axes has 1 entries/);
    expect(errorsOf('onnx.Slice', [f32(3, 4), ints([2], [0, 0]), ints([2], [1, 2]), ints([2], [0, 1])])).toEqual([]);
  });

  it('LayerNormalization: Scale and B of one value per normalized element', () => {
    expect(reasons(errorsOf('onnx.LayerNormalization', [f32(3, 4), floats([5])]))).toMatch(/ops\/layer-norm-parameter: 'c1' \[5\] holds 5 values for the 4 elements of 'x0' \[3,4\] from axis -1/);
    expect(errorsOf('onnx.LayerNormalization', [f32(2, 3, 4), floats([3, 4]), floats([3, 4])], { axis: attrs.int(1) })).toEqual([]);
  });

  it('Conv: a bias of one value per output channel', () => {
    expect(reasons(errorsOf('onnx.Conv', [f32(1, 3, 8, 8), floats([4, 3, 3, 3]), floats([5])]))).toMatch(/ops\/conv-bias: bias 'c2' \[5\] is not one value per output channel of weight 'c1' \[4,3,3,3\]/);
    expect(errorsOf('onnx.Conv', [f32(1, 3, 8, 8), floats([4, 3, 3, 3]), floats([4])])).toEqual([]);
  });

  it('InstanceNormalization: an input of rank 3 or more', () => {
    expect(reasons(errorsOf('onnx.InstanceNormalization', [f32(4), floats([1]), floats([1])]))).toMatch(/ops\/instance-norm-rank: 'x0' \[4\] has rank 1/);
  });

  it('MaxPool/AveragePool: a window larger than the padded input that leaves no output (not with ceil_mode)', () => {
    expect(reasons(errorsOf('onnx.MaxPool', [f32(1, 3, 2, 2)], { kernel_shape: attrs.ints([5, 5]) }))).toMatch(/ops\/pool-window: the pooling window of 5 on spatial axis 0 is larger than the padded input \(2\)/);
    expect(reasons(errorsOf('onnx.AveragePool', [f32(1, 3, 2, 2)], { kernel_shape: attrs.ints([3, 3]), pads: attrs.ints([0, 0, 0, 0]) }))).toMatch(/pooling window of 3/);
    expect(errorsOf('onnx.MaxPool', [f32(1, 3, 2, 2)], { kernel_shape: attrs.ints([3, 3]), pads: attrs.ints([1, 1, 1, 1]) })).toEqual([]);
    expect(errorsOf('onnx.MaxPool', [f32(1, 3, 2, 2)], { kernel_shape: attrs.ints([2, 2]) })).toEqual([]);
    // ORT divides toward zero: a window overhanging by less than a stride still gives one output (window-overhang test).
    expect(errorsOf('onnx.MaxPool', [f32(1, 3, 1, 1)], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) })).toEqual([]);
    expect(errorsOf('onnx.AveragePool', [f32(1, 2, 2, 2)], { kernel_shape: attrs.ints([3, 3]), strides: attrs.ints([2, 2]) })).toEqual([]);
  });
});

describe('RNN/GRU/LSTM weights', () => {
  it('W and R agree with hidden_size, direction and the input size', () => {
    const hidden = { hidden_size: attrs.int(4) };
    expect(errorsOf('onnx.GRU', [f32(2, 1, 3), floats([1, 12, 3]), floats([1, 12, 4])], hidden)).toEqual([]);
    expect(reasons(errorsOf('onnx.GRU', [f32(2, 1, 3), floats([1, 12, 3]), floats([1, 12, 5])], hidden))).toMatch(/ops\/recurrent-weights: R 'c2' \[1,12,5\] has 5 on axis 2, not 4/);
    expect(reasons(errorsOf('onnx.LSTM', [f32(2, 1, 3), floats([1, 12, 3]), floats([1, 12, 4])], hidden))).toMatch(/W 'c1' \[1,12,3\] has 12 on axis 1, not 16/);
    expect(reasons(errorsOf('onnx.RNN', [f32(2, 1, 3), floats([1, 4, 3]), floats([1, 4, 4])], { ...hidden, direction: attrs.string('bidirectional') }))).toMatch(/W 'c1' \[1,4,3\] has 1 on axis 0, not 2/);
    expect(reasons(errorsOf('onnx.RNN', [f32(2, 1, 5), floats([1, 4, 3]), floats([1, 4, 4])], hidden))).toMatch(/W 'c1' \[1,4,3\] has 3 on axis 2, not 5/);
  });
});
