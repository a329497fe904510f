/**
 * shared-integers.ts: compact-qdq merges equal initializers, so one uint8 `255` can be a QuantizeLinear's zero point
 * (a tensor that is never positive, quantized with zero point 255) and the code of scalar constants dequantized with
 * different scales (a decomposed HardSwish's +3 and ×1/6: PaddleOCR mobile v2 cls, QA s17 round 13 R1). Each set of
 * DequantizeLinears gets its own copy of the code, so legalize-tflite{full-integer=true} reads each as a quantized
 * constant: it refused the model ("input #1 … is float32 (a float constant, not quantized)").
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { runTflitePipeline } from '../../__tests__/helpers.js';

async function legalize(model: Model): Promise<Map<string, number>> {
  return (await runTflitePipeline(model, 'legalize-tflite{full-integer=true}')).statistics;
}

/** x ≤ 0 quantized with zero point `code` (255); then Add(+3) and, with `mul`, Mul(×1/6), both constants DQ(code). */
function sharedCodeModel(options: { mul: boolean; repeatAdd?: boolean }): Model {
  const b = new GraphBuilder();
  const code = b.constant(Tensor.scalar('uint8', 255), 'q0');
  const zero = b.constant(Tensor.scalar('uint8', 0), 'qz0');
  const pair = (value: Value, scale: number, zeroPoint: Value, name: string): Value => {
    const s = b.constant(Tensor.scalar('float32', Math.fround(scale)), `${name}_scale`);
    return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, zeroPoint], {}, { name: `${name}_q` }), s, zeroPoint], {}, { name: `${name}_dq` });
  };
  const three = b.constant(Tensor.scalar('float32', Math.fround(3 / 255)), 'three_scale');
  const quantizedThree = () => b.op1('onnx.DequantizeLinear', [code, three, zero]);
  const x = pair(b.input('x', tensorType('float32', [1, 4, 2, 2])), 0.02, code, 'x');
  let y = pair(b.op1('onnx.Add', [x, quantizedThree()], {}, { name: 'add' }), 0.02, zero, 'add');
  if (options.repeatAdd) y = pair(b.op1('onnx.Add', [y, quantizedThree()], {}, { name: 'add2' }), 0.04, zero, 'add2');
  if (options.mul) {
    const sixth = b.op1('onnx.DequantizeLinear', [code, b.constant(Tensor.scalar('float32', Math.fround(1 / 6 / 255)), 'sixth_scale'), zero]);
    y = pair(b.op1('onnx.Mul', [y, sixth], {}, { name: 'mul' }), 0.004, zero, 'mul');
  }
  b.output(y);
  return b.model({ onnx: 13 });
}

const opsOf = (model: Model) => model.graph.nodeList().map((node) => `${node.op.slice(7)}(${(node.inputs[0]?.type as { dtype?: string } | undefined)?.dtype})`);
const constantOperands = (model: Model, op: string) =>
  model.graph.nodeList().filter((node) => node.op === op).map((node) => {
    const constant = node.inputs[1]!.constant!;
    return { dtype: constant.dtype, values: constant.toNumbers(), scale: constant.quant?.scale[0] };
  });

describe('a shared integer code that is also a QuantizeLinear zero point', () => {
  it('Add(+3) and Mul(×1/6) of one uint8 255 with two scales, the 255 also x’s zero point → ADD and MUL on int8 constants', async () => {
    const model = sharedCodeModel({ mul: true });
    expect((await legalize(model)).get('float-ops-in-int8-model')).toBe(0);
    expect(opsOf(model)).toEqual(['QUANTIZE(float32)', 'ADD(int8)', 'MUL(int8)', 'DEQUANTIZE(int8)']);
    // Each constant is its own int8 code with the scale its DequantizeLinear read: 3 and 1/6 (uint8 255 → int8 127).
    expect(constantOperands(model, 'tflite.ADD')).toEqual([{ dtype: 'int8', values: [127], scale: Math.fround(3 / 255) }]);
    expect(constantOperands(model, 'tflite.MUL')).toEqual([{ dtype: 'int8', values: [127], scale: Math.fround(1 / 6 / 255) }]);
  });

  it('one scale only (two Adds of +3), the 255 also x’s zero point → both ADDs on int8 constants', async () => {
    const model = sharedCodeModel({ mul: false, repeatAdd: true });
    expect((await legalize(model)).get('float-ops-in-int8-model')).toBe(0);
    expect(opsOf(model)).toEqual(['QUANTIZE(float32)', 'ADD(int8)', 'ADD(int8)', 'DEQUANTIZE(int8)']);
    expect(constantOperands(model, 'tflite.ADD').map((operand) => operand.dtype)).toEqual(['int8', 'int8']);
  });
});
