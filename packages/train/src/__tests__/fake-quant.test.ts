/**
 * Fake quantization: the gradient of QuantizeLinear → DequantizeLinear pairs is the straight-through
 * estimator (the downstream gradient where the value lands inside the integer range, 0 where it
 * saturates), per channel for weights and per tensor for activations, checked in ONNX Runtime against
 * the same chain computed by hand. A QDQ student's integer weights train as float behind QuantizeLinear,
 * compute what the quantized model computes, and go back with their original scales.
 */
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { runOrt } from '@modelpass/runtime';
import { buildGradientGraph, prepareFakeQuantStudent, requantizeWeights } from '@modelpass/train';
import { describe, expect, it } from 'vitest';
import { seeded } from './gradcheck.js';

const rng = seeded(5);
const uniform = (n: number, scale: number) => Float32Array.from({ length: n }, () => scale * (rng() * 2 - 1));
const f32 = (shape: number[]) => tensorType('float32', shape);

/** x[4,6] · fakequant(W[6,3], per column, int8) → fakequant(activation, uint8) → output. */
function fakeQuantChain(): { model: Model; x: Float32Array; w: Float32Array; target: Float32Array; wScale: number[]; actScale: number; actZero: number } {
  const x = uniform(24, 1);
  const w = uniform(18, 1);
  const wScale = [0.004, 0.006, 0.02]; // columns 0 and 1 saturate int8 for |w| > 0.51 / 0.76
  const [actScale, actZero] = [0.01, 128]; // activations outside [−1.28, 1.27] saturate
  const g = new GraphBuilder();
  const weight = g.constant(Tensor.fromValues('float32', [6, 3], w), 'W');
  const scales = g.constant(Tensor.fromValues('float32', [3], wScale), 'w_scale');
  const zeros = g.constant(Tensor.fromValues('int8', [3], [0, 0, 0]), 'w_zero');
  const wq = g.op1('onnx.QuantizeLinear', [weight, scales, zeros], { axis: attrs.int(1) });
  const wd = g.op1('onnx.DequantizeLinear', [wq, scales, zeros], { axis: attrs.int(1) });
  const y = g.op1('onnx.MatMul', [g.input('x', f32([4, 6])), wd]);
  const aScale = g.constant(Tensor.scalar('float32', actScale), 'a_scale');
  const aZero = g.constant(Tensor.scalar('uint8', actZero), 'a_zero');
  g.output(g.op1('onnx.DequantizeLinear', [g.op1('onnx.QuantizeLinear', [y, aScale, aZero]), aScale, aZero]));
  return { model: g.model({ onnx: 13 }), x, w, target: uniform(12, 1), wScale, actScale, actZero };
}

const roundEven = (v: number) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));
const fq = (v: number, s: number, z: number, lo: number, hi: number) => {
  const level = roundEven(v / s) + z;
  return { value: (Math.min(hi, Math.max(lo, level)) - z) * s, inside: level >= lo && level <= hi };
};

describe('fake quantization', () => {
  it('passes the gradient straight through inside the range and stops it where values saturate', async () => {
    const { model, x, w, target, wScale, actScale, actZero } = fakeQuantChain();
    const training = buildGradientGraph(model, { loss: { kind: 'mse' }, wrt: ['W', 'x'] });
    const out = await runOrt(training.model, { x: Tensor.fromValues('float32', [4, 6], x), target: Tensor.fromValues('float32', [4, 3], target) });
    const wFake = Array.from(w, (v, i) => fq(v, wScale[i % 3]!, 0, -128, 127));
    const pre = Array.from({ length: 12 }, (_, i) => {
      const [n, c] = [Math.floor(i / 3), i % 3];
      let sum = 0;
      for (let k = 0; k < 6; k++) sum += x[n * 6 + k]! * wFake[k * 3 + c]!.value;
      return sum;
    });
    const act = pre.map((v) => fq(v, actScale, actZero, 0, 255));
    const dPre = act.map((a, i) => (a.inside ? (2 * (a.value - target[i]!)) / 12 : 0));
    const expectedW = wFake.map((f, i) => {
      const [k, c] = [Math.floor(i / 3), i % 3];
      let sum = 0;
      for (let n = 0; n < 4; n++) sum += x[n * 6 + k]! * dPre[n * 3 + c]!;
      return f.inside ? sum : 0;
    });
    const expectedX = Array.from({ length: 24 }, (_, i) => {
      const [n, k] = [Math.floor(i / 6), i % 6];
      let sum = 0;
      for (let c = 0; c < 3; c++) sum += dPre[n * 3 + c]! * wFake[k * 3 + c]!.value;
      return sum;
    });
    expect(wFake.filter((f) => !f.inside).length).toBeGreaterThan(2);
    expect(act.filter((a) => !a.inside).length).toBeGreaterThan(0);
    expect(act.filter((a) => a.inside).length).toBeGreaterThan(2);
    const gradW = out.get(training.gradients.get('W')!)!.toNumbers();
    const gradX = out.get(training.gradients.get('x')!)!.toNumbers();
    expectedW.forEach((e, i) => { expect(gradW[i]).toBeCloseTo(e, 5); if (!wFake[i]!.inside) expect(gradW[i]).toBe(0); });
    expectedX.forEach((e, i) => expect(gradX[i]).toBeCloseTo(e, 5));
  });

  // quantize-static writes a Conv/MatMul weight's DequantizeLinear without its (zero) int8 zero point:
  // the fake QuantizeLinear must still write int8 (without a zero point it would write uint8, clipping negatives).
  it.each([{ weightZeroPoint: true }, { weightZeroPoint: false }])('trains a QDQ model\'s integer weights as float and writes them back with the same scales (weight zero point given: $weightZeroPoint)', async ({ weightZeroPoint }) => {
    const g = new GraphBuilder();
    const wScale = [0.01, 0.02];
    const wInt = Tensor.fromValues('int8', [2, 3, 1, 1], [10, -20, 127, -128, 5, 0]);
    const bInt = Tensor.fromValues('int32', [2], [300, -41]);
    const xScale = g.constant(Tensor.scalar('float32', 0.02), 'x_scale');
    const xZero = g.constant(Tensor.scalar('uint8', 128), 'x_zero');
    const xd = g.op1('onnx.DequantizeLinear', [g.op1('onnx.QuantizeLinear', [g.input('x', f32([2, 3, 2, 2])), xScale, xZero]), xScale, xZero]);
    const wd = g.op1('onnx.DequantizeLinear', [g.constant(wInt, 'conv.weight'), g.constant(Tensor.fromValues('float32', [2], wScale), 'w_scale'), ...(weightZeroPoint ? [g.constant(Tensor.fromValues('int8', [2], [0, 0]), 'w_zero')] : [])], { axis: attrs.int(0) });
    const bd = g.op1('onnx.DequantizeLinear', [g.constant(bInt, 'conv.bias'), g.constant(Tensor.fromValues('float32', [2], wScale.map((s) => s * 0.02)), 'b_scale')], { axis: attrs.int(0) });
    g.output(g.op1('onnx.Conv', [xd, wd, bd]));
    const quantized = g.model({ onnx: 13 });
    const student = decodeOnnx(encodeOnnx(quantized));
    const weights = prepareFakeQuantStudent(student);
    expect(weights.map((w) => [w.integer, w.training])).toEqual([['conv.weight', 'fake-quantized'], ['conv.bias', 'float']]);
    const x = Tensor.fromValues('float32', [2, 3, 2, 2], uniform(24, 2));
    const [before, after] = [await runOrt(quantized, { x }), await runOrt(student, { x })];
    expect(student.graph.nodeList().map((n) => n.op)).toContain('onnx.QuantizeLinear');
    expect(student.graph.getValue(weights[0]!.float)!.constant!.dtype).toBe('float32');
    expect([...after.values()][0]!.toNumbers()).toEqual([...before.values()][0]!.toNumbers());

    expect(requantizeWeights(student, quantized, weights)).toBe(0);
    const float = student.graph.getValue(weights[0]!.float)!;
    float.setConstant(Tensor.fromValues('float32', [2, 3, 1, 1], [0.1049, -0.2, 5, -5, 0.1, 0.03]));
    expect(requantizeWeights(student, quantized, weights)).toBe(1);
    expect(quantized.graph.getValue('conv.weight')!.constant!.toNumbers()).toEqual([10, -20, 127, -128, 5, 2]);
    expect(quantized.graph.getValue('conv.bias')!.constant!.toNumbers()).toEqual([300, -41]);
  });
});
