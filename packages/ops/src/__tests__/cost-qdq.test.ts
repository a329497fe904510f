/**
 * analyzeCost on a QDQ model (what quantize-static writes): a DequantizeLinear of a constant weight
 * or bias costs nothing and holds no parameters of its own — its constants count for the Conv that
 * reads it, as the float weight did — while a DequantizeLinear of an activation is an elementwise
 * op (1 FLOP per element). The model's total parameter count is the same either way.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, attrs, tensorType } from '@modelpass/ir';
import { analyzeCost } from '@modelpass/ops';

/** x → Q → DQ → Conv(1→16, 3×3, pad 1) with an int8 per-channel weight and an int32 bias behind DequantizeLinear. */
function qdqConv() {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', ['N', 1, 28, 28]));
  const xScale = g.constant(Tensor.fromValues('float32', [], [0.02]), 'x_scale');
  const xZero = g.constant(Tensor.fromValues('uint8', [], [0]), 'x_zero');
  const q = g.op1('onnx.QuantizeLinear', [x, xScale, xZero], {}, { name: 'Q_x' });
  const dqx = g.op1('onnx.DequantizeLinear', [q, xScale, xZero], {}, { name: 'DQ_x' });
  const w = g.constant(Tensor.fromValues('int8', [16, 1, 3, 3], new Array(144).fill(3)), 'w_q');
  const wScale = g.constant(Tensor.fromValues('float32', [16], new Array(16).fill(0.01)), 'w_scale');
  const wZero = g.constant(Tensor.fromValues('int8', [16], new Array(16).fill(0)), 'w_zero');
  const dqw = g.op1('onnx.DequantizeLinear', [w, wScale, wZero], { axis: attrs.int(0) }, { name: 'DQ_w' });
  const b = g.constant(Tensor.fromValues('int32', [16], new Array(16).fill(5)), 'b_q');
  const bScale = g.constant(Tensor.fromValues('float32', [16], new Array(16).fill(0.0002)), 'b_scale');
  const dqb = g.op1('onnx.DequantizeLinear', [b, bScale], { axis: attrs.int(0) }, { name: 'DQ_b' });
  const conv = g.op1('onnx.Conv', [dqx, dqw, dqb], { kernel_shape: attrs.ints([3, 3]), pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv' });
  g.output(conv);
  return g.model({ onnx: 13 });
}

describe('analyzeCost on QDQ models', () => {
  it('credits a dequantized constant weight and bias to the Conv; their DequantizeLinear costs 0 FLOPs and 0 parameters', () => {
    const cost = analyzeCost(qdqConv());
    const byName = Object.fromEntries(cost.layers.map((l) => [l.node, l]));
    // weight 144 + its 16 scales + 16 zero points, bias 16 + its 16 scales
    expect(byName.conv).toMatchObject({ macs: 16 * 28 * 28 * 9, parameters: 144 + 16 + 16 + 16 + 16 });
    expect(byName.DQ_w).toMatchObject({ macs: 0, flops: 0, parameters: 0 });
    expect(byName.DQ_b).toMatchObject({ macs: 0, flops: 0, parameters: 0 });
    // an activation's DequantizeLinear is still elementwise work, with its scale and zero point
    expect(byName.DQ_x).toMatchObject({ flops: 28 * 28, parameters: 2 });
    expect(byName.Q_x).toMatchObject({ flops: 28 * 28, parameters: 2 });
    // every distinct constant counted once in the total
    expect(cost.parameters).toBe(2 + 144 + 16 + 16 + 16 + 16);
    expect(cost.flops).toBe(cost.layers.reduce((n, l) => n + l.flops, 0));
  });
});
