/**
 * legalize-tflite on small hand-built QDQ models (ONNX Runtime's layout: uint8 activations, int8
 * per-channel weights, int32 biases): what the int8 lowering writes, type by type. The runtime
 * checks (accuracy, integers against ORT) are in packages/conformance (tflite-int8.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { attrs, dequantizeLinear, GraphBuilder, ModelpassError, Tensor, tensorType, type Model, type TensorType, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { int8Ops } from '@modelpass/tflite';
import { runTflitePipeline } from './helpers.js';

async function legalize(model: Model, options = ''): Promise<Map<string, number>> {
  return (await runTflitePipeline(model, `legalize-tflite${options ? `{${options}}` : ''}`)).statistics;
}

const X_SCALE = Math.fround(0.02);
const Y_SCALE = Math.fround(0.05);
const W_SCALES = [0.01, 0.02, 0.03].map(Math.fround);

/** x → Q/DQ (uint8, zp 128) → Conv 1×1 (int8 per-channel weights with `weightZeroPoint`, int32 bias) → Q/DQ (uint8, zp 0: a Relu range) → Flatten → Gemm (float logits). */
function qdqModel(weightZeroPoint = 0): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 2, 2, 2]));
  const pair = (value: Value, scale: number, zeroPoint: number, name: string): Value => {
    const s = b.constant(Tensor.scalar('float32', scale));
    const z = b.constant(Tensor.scalar('uint8', zeroPoint));
    return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, z], {}, { name: `${name}_q` }), s, z], {}, { name: `${name}_dq` });
  };
  const xr = pair(x, X_SCALE, 128, 'x');
  const wq = b.constant(Tensor.fromValues('int8', [3, 2, 1, 1], [10, -20, 30, -40, 127, -127]));
  const w = b.op1('onnx.DequantizeLinear', [wq, b.constant(Tensor.fromValues('float32', [3], W_SCALES)), b.constant(Tensor.fromValues('int8', [3], [weightZeroPoint, 0, 0]))], { axis: attrs.int(0) }, { name: 'w_dq' });
  const biasScales = W_SCALES.map((s) => Math.fround(s * X_SCALE));
  const bias = b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int32', [3], [100, -200, 300])), b.constant(Tensor.fromValues('float32', [3], biasScales))], { axis: attrs.int(0) }, { name: 'bias_dq' });
  const conv = b.op1('onnx.Conv', [xr, w, bias], { kernel_shape: attrs.ints([1, 1]) }, { name: 'conv' });
  const yr = pair(conv, Y_SCALE, 0, 'y');
  const flat = b.op1('onnx.Flatten', [yr], { axis: attrs.int(1) }, { name: 'flatten' });
  const fc = b.constant(Tensor.fromValues('float32', [2, 12], Array.from({ length: 24 }, (_, i) => (i % 5) / 10)));
  b.output(b.op1('onnx.Gemm', [flat, fc], { transB: attrs.int(1) }, { name: 'logits' }));
  const model = b.model({ onnx: 17 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

const typeOf = (value: Value | null | undefined) => value!.type as TensorType;

describe('legalize-tflite on a QDQ model', () => {
  it('writes int8 tensors: QUANTIZE at the float input, CONV_2D int8 with per-channel filter and int32 bias, DEQUANTIZE before the float Gemm', async () => {
    const model = qdqModel();
    const statistics = await legalize(model);
    expect(statistics.get('int8-ops')).toBe(1);
    expect(statistics.get('float-ops-in-int8-model')).toBe(1);
    const nodes = model.graph.nodeList();
    const quantize = nodes.find((node) => node.op === 'tflite.QUANTIZE')!;
    expect(typeOf(quantize.inputs[0]).dtype).toBe('float32');
    // uint8 zero point 128 → int8 zero point 0, same scale
    expect(typeOf(quantize.outputs[0])).toMatchObject({ dtype: 'int8', quant: { scale: [X_SCALE], zeroPoint: [0] } });
    const conv = nodes.find((node) => node.op === 'tflite.CONV_2D')!;
    expect(typeOf(conv.inputs[0]).dtype).toBe('int8');
    expect(typeOf(conv.inputs[1])).toMatchObject({ dtype: 'int8', shape: [3, 1, 1, 2], quant: { axis: 0, scale: W_SCALES, zeroPoint: [0, 0, 0] } });
    const bias = typeOf(conv.inputs[2]);
    expect(bias.dtype).toBe('int32');
    expect(bias.quant!.axis).toBe(0);
    bias.quant!.scale.forEach((scale, c) => expect(Math.abs(scale - X_SCALE * W_SCALES[c]!)).toBeLessThanOrEqual(1e-6 * scale));
    expect(conv.inputs[2]!.constant!.toNumbers()).toEqual([100, -200, 300]);
    // Output range [0, 255·0.05]: zero point −128 after the shift, so the range says RELU.
    expect(typeOf(conv.outputs[0]).quant).toMatchObject({ scale: [Y_SCALE], zeroPoint: [-128] });
    expect(conv.getAttribute('fused_activation_function')).toEqual({ kind: 'string', value: 'RELU' });
    const dequantize = nodes.find((node) => node.op === 'tflite.DEQUANTIZE')!;
    expect(typeOf(dequantize.inputs[0]).dtype).toBe('int8');
    const fc = nodes.find((node) => node.op === 'tflite.FULLY_CONNECTED')!;
    expect(typeOf(fc.inputs[0]).dtype).toBe('float32');
    expect(model.graph.outputs.map((value) => typeOf(value).dtype)).toEqual(['float32']);
  });

  it('io-type=int8 declares the input int8 with the QuantizeLinear parameters', async () => {
    const model = qdqModel();
    await legalize(model, 'io-type=int8');
    expect(typeOf(model.graph.inputs[0])).toMatchObject({ dtype: 'int8', quant: { scale: [X_SCALE], zeroPoint: [0] } });
    expect(model.graph.nodeList().some((node) => node.op === 'tflite.QUANTIZE')).toBe(false);
  });

  it('io-type=int8 warns about each edge that stays float32, naming the node that keeps it float', async () => {
    const model = qdqModel();
    const result = await runTflitePipeline(model, 'legalize-tflite{io-type=int8}');
    const edges = result.diagnostics.filter((d) => d.code === 'tflite/io-type-float-edge');
    // The input is quantized first (int8, no warning); the logits come from a float Gemm.
    expect(edges.map((d) => [d.severity, d.reason])).toEqual([['warning', `io-type=int8: output '${model.graph.outputs[0]!.name}' stays float32 in the .tflite: the model computes it in float ('logits' (onnx.Gemm))`]]);
    const plain = await runTflitePipeline(qdqModel());
    expect(plain.diagnostics.filter((d) => d.code === 'tflite/io-type-float-edge')).toEqual([]);
  });

  it('a model that is only x → QuantizeLinear → DequantizeLinear → output becomes QUANTIZE → DEQUANTIZE, its output still defined', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [1, 4]));
    const s = b.constant(Tensor.scalar('float32', X_SCALE));
    const z = b.constant(Tensor.scalar('int8', 0));
    b.output(b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [x, s, z], {}, { name: 'q' }), s, z], {}, { name: 'dq' }));
    const model = b.model({ onnx: 13 });
    inferShapes(model, { mode: 'refresh' });
    await legalize(model);
    const output = model.graph.outputs[0]!;
    expect(model.graph.nodeList().map((node) => node.op)).toEqual(['tflite.QUANTIZE', 'tflite.DEQUANTIZE']);
    expect(output.producer?.op).toBe('tflite.DEQUANTIZE');
    expect(model.graph.nodeList()).toContain(output.producer);
  });

  it('refuses asymmetric int8 weights, naming the node, and names the int8 ops it has', async () => {
    const error = await legalize(qdqModel(5)).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as Error).message).toMatch(/node 'conv' \(onnx\.Conv\).*asymmetric int8 weights \(zero point 5 at channel 0\)/);
    expect(int8Ops()).toEqual(expect.arrayContaining(['onnx.Conv', 'onnx.Gemm', 'onnx.MaxPool', 'onnx.Softmax']));
  });
});

describe('legalize-tflite on a weight-only model (int8 weights, float activations)', () => {
  it('keeps symmetric per-channel int8 weights behind a DEQUANTIZE whose reals are bit-exact with DequantizeLinear', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [1, 64]));
    const integers = Tensor.fromValues('int8', [32, 64], Array.from({ length: 2048 }, (_, i) => (i % 64 === i >> 6 % 64 ? 127 : ((i * 37) % 255) - 127)));
    const scales = Tensor.fromValues('float32', [32], Array.from({ length: 32 }, (_, c) => Math.fround(0.001 * (c + 1) + 1e-5)));
    const zeros = Tensor.fromValues('int8', [32], new Array<number>(32).fill(0));
    const w = b.op1('onnx.DequantizeLinear', [b.constant(integers), b.constant(scales), b.constant(zeros)], { axis: attrs.int(0) }, { name: 'w_dq' });
    b.output(b.op1('onnx.Gemm', [x, w], { transB: attrs.int(1) }, { name: 'fc' }));
    const model = b.model({ onnx: 17 });
    inferShapes(model, { mode: 'refresh' });
    const statistics = await legalize(model);
    expect(statistics.get('int8-weights')).toBe(1);
    const fc = model.graph.nodeList().find((node) => node.op === 'tflite.FULLY_CONNECTED')!;
    const dequantize = fc.inputs[1]!.producer!;
    expect(dequantize.op).toBe('tflite.DEQUANTIZE');
    const stored = dequantize.inputs[0]!.constant!;
    expect(stored.dtype).toBe('int8');
    expect(stored.quant).toMatchObject({ axis: 0, zeroPoint: new Array(32).fill(0) });
    // What TFLite's DEQUANTIZE computes, fround(q · scale), equals ONNX's DequantizeLinear of the original.
    const reals = stored.toNumbers().map((q, i) => Math.fround(q * stored.quant!.scale[Math.floor(i / 64)]!));
    expect(reals).toEqual(dequantizeLinear(integers, scales, zeros, { axis: 0 }).toNumbers());
  });
});

describe('unsupported-int8', () => {
  /** x → Q/DQ → Exp → Q/DQ → Relu: Exp has no int8 lowering. */
  function expModel(): Model {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [1, 4]));
    const s = b.constant(Tensor.scalar('float32', X_SCALE));
    const z = b.constant(Tensor.scalar('uint8', 128));
    const xr = b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [x, s, z], {}, { name: 'x_q' }), s, z], {}, { name: 'x_dq' });
    const exp = b.op1('onnx.Exp', [xr], {}, { name: 'exp' });
    const t = b.constant(Tensor.scalar('float32', Y_SCALE));
    const u = b.constant(Tensor.scalar('uint8', 0));
    const er = b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [exp, t, u], {}, { name: 'e_q' }), t, u], {}, { name: 'e_dq' });
    b.output(b.op1('onnx.Relu', [er], {}, { name: 'relu' }));
    const model = b.model({ onnx: 17 });
    inferShapes(model, { mode: 'refresh' });
    return model;
  }

  it('error (default) names the node and the option; float runs it between DEQUANTIZE and QUANTIZE', async () => {
    const error = await legalize(expModel()).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect((error as Error).message).toMatch(/node 'exp' \(onnx\.Exp\).*no int8 TFLite lowering/);
    expect((error as Error).message).toMatch(/unsupported-int8=float/);
    // The ops it has, by their names without the dialect (tflite.RSQRT once read 'e.RSQRT').
    expect((error as Error).message).toMatch(/\(supported: Add, [^)]*\bExpand, [^)]*, Upsample, RSQRT\)/);
    const model = expModel();
    const statistics = await legalize(model, 'unsupported-int8=float');
    expect(statistics.get('float-ops-in-int8-model')).toBeGreaterThanOrEqual(1);
    const ops = model.graph.nodeList().map((node) => `${node.op.slice(7)}:${typeOf(node.inputs[0]).dtype}`);
    expect(ops.slice(0, 4)).toEqual(['QUANTIZE:float32', 'DEQUANTIZE:int8', 'EXP:float32', 'QUANTIZE:float32']);
  });
});
