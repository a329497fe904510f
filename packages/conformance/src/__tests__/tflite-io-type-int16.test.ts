/**
 * io-type on a 16x8 model (int16 activations; s16 issue 12, item 4). `io-type=int8` gave int16 inputs/outputs without a
 * word (the option's name misled); an int8 edge would drop 8 bits of every value before the first op, and TFLite's own
 * converter refuses inference_input_type=tf.int8 for 16x8 models. Now io-type=int8 refuses such a model, naming each
 * int16 edge and pointing at io-type=int16, which gives int16 edges; io-type=int16 on an 8-bit model is refused the same
 * way. Judged in TFLite 2.9: the int16-io file, fed the integers the input's scale makes of the floats, gives the very
 * integers the float-io file's DEQUANTIZE reads.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType, type Model, type TensorType, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { disposeSharedOrtRunner, TfliteEngine } from '@modelpass/runtime';
import { encodeTflite } from '@modelpass/tflite';
import { feedsFor, legalize } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

const SHAPE = [1, 2, 4, 6];
const IN_SCALE = Math.fround(3 / 32767);
const OUT_SCALE = Math.fround(1 / 32768);

/** x → Q/DQ → MaxPool → Q/DQ → Sigmoid → Q/DQ → y, all activations `dtype` (opset 21: int16 QuantizeLinear). */
function qdqModel(dtype: 'int16' | 'uint8'): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', SHAPE));
  const zero = dtype === 'int16' ? Tensor.scalar('int16', 0) : Tensor.scalar('uint8', 128);
  const scale = (s: number): number => (dtype === 'int16' ? s : s * 256);
  const qdq = (value: Value, s: number, name: string, zeroPoint = zero): Value => {
    const [sv, zv] = [b.constant(Tensor.scalar('float32', scale(s))), b.constant(zeroPoint)];
    return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, sv, zv], {}, { name: `${name}_q` }), sv, zv], {}, { name: `${name}_dq` });
  };
  const pooled = b.op('onnx.MaxPool', [qdq(x, IN_SCALE, 'x')], { kernel_shape: attrs.ints([2, 2]) }, { outputs: 1 })[0]!;
  const sigmoid = b.op1('onnx.Sigmoid', [qdq(pooled, IN_SCALE, 'pooled')]);
  b.output(qdq(sigmoid, OUT_SCALE, 'y', dtype === 'int16' ? zero : Tensor.scalar('uint8', 0)));
  const model = b.model({ onnx: 21 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

async function refusal(model: Model, options: string): Promise<Error> {
  const error = await legalize(model, options).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(ModelpassError.is(error), String(error)).toBe(true);
  return error as Error;
}

describe('legalize-tflite io-type on a 16x8 model', () => {
  it('io-type=int8 is refused, naming the int16 input and output and io-type=int16', async () => {
    const error = await refusal(qdqModel('int16'), 'io-type=int8');
    expect(error.message).toMatch(/io-type=int8: input 'x' is quantized to int16; output '.*' is dequantized from int16, not int8/);
    expect(error.message).toMatch(/io-type=int16/);
  });

  it('io-type=int16 gives int16 edges; TFLite 2.9 on them equals the float-io file (its QUANTIZE and DEQUANTIZE aside)', async () => {
    const int16Io = qdqModel('int16');
    await legalize(int16Io, 'io-type=int16');
    const input = int16Io.graph.inputs[0]!.type as TensorType;
    const output = int16Io.graph.outputs[0]!.type as TensorType;
    expect(input.dtype).toBe('int16');
    expect(output.dtype).toBe('int16');
    expect(int16Io.graph.nodeList().map((node) => node.op)).not.toContain('tflite.QUANTIZE');
    const floatIo = qdqModel('int16');
    await legalize(floatIo, '');
    expect((floatIo.graph.inputs[0]!.type as TensorType).dtype).toBe('float32');

    const floats = feedsFor(floatIo, 11, [-3, 3]).x!;
    const inScale = input.quant!.scale[0]!;
    const integers = Tensor.fromValues('int16', SHAPE, floats.toNumbers().map((v) => Math.max(-32768, Math.min(32767, Math.round(v / inScale)))));
    const engine = new TfliteEngine();
    const viaInt16 = (await engine.run(encodeTflite(int16Io), { x: integers })).get(int16Io.graph.outputs[0]!.name)!;
    const viaFloat = (await engine.run(encodeTflite(floatIo), { x: floats })).get(floatIo.graph.outputs[0]!.name)!;
    expect(viaInt16.dtype).toBe('int16');
    const outScale = output.quant!.scale[0]!;
    expect(viaInt16.toNumbers().map((q) => Math.fround(q * outScale))).toEqual(viaFloat.toNumbers());
  });

  it('io-type=int16 on an 8-bit model is refused, pointing at io-type=int8; io-type=int8 still gives int8 edges', async () => {
    const error = await refusal(qdqModel('uint8'), 'io-type=int16');
    expect(error.message).toMatch(/io-type=int16: input 'x' is quantized to int8/);
    expect(error.message).toMatch(/io-type=int8/);
    const int8Io = qdqModel('uint8');
    await legalize(int8Io, 'io-type=int8');
    expect((int8Io.graph.inputs[0]!.type as TensorType).dtype).toBe('int8');
    expect((int8Io.graph.outputs[0]!.type as TensorType).dtype).toBe('int8');
  });
});
