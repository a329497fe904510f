/**
 * int8 lowerings of the three ops a full-integer model kept float (QA s18: DenseNet's BatchNormalization after a Concat,
 * PRelu, ConvTranspose; legalize-tflite{full-integer=true} refused them): BatchNormalization → DEPTHWISE_CONV_2D 1×1
 * (`batch-norm-int8.ts`), PRelu with an int8 slope → PRELU, ConvTranspose with int8 weights → TRANSPOSE_CONV (int32
 * bias from finish-int8). What TFLite cannot take is refused before anything is written, naming the node: a dilated
 * int8 ConvTranspose, a BatchNormalization of rank 5 with a symbolic dim (other ranks go through a RESHAPE).
 * TFLite 2.9 runs them within one step of ORT: packages/conformance tflite-int8-bn-prelu-deconv.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType, type Model, type TensorType, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { runTflitePipeline } from '../../__tests__/helpers.js';

/** legalize-tflite{options} with the transforms and tflite passes; its statistics. */
async function legalize(model: Model, options: string): Promise<Map<string, number>> {
  return (await runTflitePipeline(model, `legalize-tflite{${options}}`)).statistics;
}

const f32 = (values: number[], shape = [values.length]) => Tensor.fromValues('float32', shape, values.map(Math.fround));

interface Options {
  readonly dilations?: number[];
  /** The BatchNormalization's input: rank 4 [1, 2, 4, 4] (default), rank 2 [1, 2], rank 5 with a symbolic batch. */
  readonly rank?: 2 | 4 | 5;
  /** Its parameters stored as int8 behind DequantizeLinear (quantize-static's large float-only constants, DenseNet's). */
  readonly quantizedParameters?: boolean;
}

/** x → Q/DQ → BatchNormalization → Q/DQ → PRelu (uint8 slope) → Q/DQ → ConvTranspose (int8 weights, int32 bias) → Q/DQ → y. */
function qdqModel(options: Options = {}): Model {
  const b = new GraphBuilder();
  const pair = (value: Value, scale: number, zeroPoint: number, name: string): Value => {
    const s = b.constant(Tensor.scalar('float32', Math.fround(scale)));
    const z = b.constant(Tensor.scalar('uint8', zeroPoint));
    return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, z], {}, { name: `${name}_q` }), s, z], {}, { name: `${name}_dq`, outputs: [`${name}_reals`] });
  };
  const dims = options.rank === 2 ? [1, 2] : options.rank === 5 ? ['N', 2, 2, 2, 2] : [1, 2, 4, 4];
  const x = pair(b.input('x', tensorType('float32', dims)), 0.02, 128, 'x');
  // Quantized parameters: int8 codes at scale 0.1 (the same reals as the float ones).
  const parameter = (values: number[]) =>
    options.quantizedParameters
      ? b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int8', [values.length], values.map((v) => Math.round(v * 10)))), b.constant(Tensor.scalar('float32', Math.fround(0.1))), b.constant(Tensor.scalar('int8', 0))])
      : b.constant(f32(values));
  const bn = b.op1('onnx.BatchNormalization', [x, parameter([1.5, -0.5]), parameter([0.1, -0.2]), parameter([0.3, -0.1]), parameter([0.8, 1.2])], {}, { name: 'bn' });
  const normalized = pair(bn, 0.03, 120, 'bn_out');
  if (options.rank !== undefined && options.rank !== 4) {
    b.output(normalized);
    return finish(b);
  }
  const slope = b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('uint8', [2, 1, 1], [25, 200])), b.constant(Tensor.scalar('float32', Math.fround(0.002))), b.constant(Tensor.scalar('uint8', 0))], {}, { name: 'slope_dq' });
  const activated = pair(b.op1('onnx.PRelu', [normalized, slope], {}, { name: 'prelu' }), 0.025, 30, 'prelu_out');
  const weightScales = [0.01, 0.02, 0.015].map(Math.fround);
  const weight = b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int8', [2, 3, 2, 2], Array.from({ length: 24 }, (_, i) => ((i * 41) % 255) - 127))), b.constant(Tensor.fromValues('float32', [3], weightScales)), b.constant(Tensor.fromValues('int8', [3], [0, 0, 0]))], { axis: attrs.int(1) }, { name: 'wt_dq' });
  const bias = b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int32', [3], [40, -80, 120])), b.constant(Tensor.fromValues('float32', [3], weightScales.map((s) => Math.fround(s * 0.025))))], { axis: attrs.int(0) }, { name: 'bt_dq' });
  const dilations = options.dilations ?? [1, 1];
  const up = b.op1('onnx.ConvTranspose', [activated, weight, bias], { strides: attrs.ints([2, 2]), dilations: attrs.ints(dilations) }, { name: 'up' });
  b.output(pair(up, 0.05, 100, 'y'));
  return finish(b);
}

function finish(b: GraphBuilder): Model {
  const model = b.model({ onnx: 13 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

async function refusal(model: Model, options: string): Promise<ModelpassError> {
  const error = await legalize(model, options).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(ModelpassError.is(error), String(error)).toBe(true);
  return error as ModelpassError;
}

const typed = (model: Model) => model.graph.nodeList().map((node) => `${node.op.slice(7)}(${(node.outputs[0]!.type as TensorType).dtype})`);

describe('legalize-tflite: int8 BatchNormalization, PRelu, ConvTranspose', () => {
  it('full-integer=true io-type=int8: DEPTHWISE_CONV_2D, PRELU, TRANSPOSE_CONV on int8; no float op', async () => {
    const model = qdqModel();
    const statistics = await legalize(model, 'full-integer=true io-type=int8');
    expect(statistics.get('float-ops-in-int8-model')).toBe(0);
    const ops = typed(model);
    expect(ops).toEqual(expect.arrayContaining(['DEPTHWISE_CONV_2D(int8)', 'PRELU(int8)', 'TRANSPOSE_CONV(int8)']));
    for (const op of ops) expect(op, ops.join(' ')).not.toMatch(/float32/);
    const nodes = model.graph.nodeList();
    // The BatchNormalization's multipliers a = γ/√(var + ε) as ±127 at |a|/127, per output channel.
    const depthwise = nodes.find((node) => node.op === 'tflite.DEPTHWISE_CONV_2D')!;
    const filter = depthwise.input(1).constant!;
    expect(filter.toNumbers()).toEqual([127, -127]);
    expect(filter.quant!.scale.map((s) => +(s * 127).toFixed(5))).toEqual([+(1.5 / Math.sqrt(0.8 + 1e-5)).toFixed(5), +(0.5 / Math.sqrt(1.2 + 1e-5)).toFixed(5)]);
    expect(depthwise.input(2).constant?.dtype).toBe('int32');
    const deconv = nodes.find((node) => node.op === 'tflite.TRANSPOSE_CONV')!;
    expect([deconv.input(1).constant!.dtype, deconv.input(1).constant!.quant?.axis, deconv.input(3).constant?.dtype]).toEqual(['int8', 0, 'int32']);
    expect(nodes.find((node) => node.op === 'tflite.PRELU')!.input(1).constant?.dtype).toBe('int8');
  });

  it('refuses a dilated int8 ConvTranspose by name before anything is written', async () => {
    const error = await refusal(qdqModel({ dilations: [2, 2] }), '');
    expect(error.diagnostics.slice(1).map((d) => [d.location?.node, d.reason])).toEqual([['up', expect.stringMatching(/dilated int8 ConvTranspose is not supported/)]]);
  });

  it("a BatchNormalization whose parameters are int8 behind DequantizeLinear (densenet121's, quantize-static's stored constants): the same depthwise Conv", async () => {
    const model = qdqModel({ quantizedParameters: true });
    await legalize(model, 'full-integer=true io-type=int8');
    const depthwise = model.graph.nodeList().find((node) => node.op === 'tflite.DEPTHWISE_CONV_2D')!;
    expect(depthwise.input(1).constant!.quant!.scale.map((s) => +(s * 127).toFixed(4))).toEqual([+(1.5 / Math.sqrt(0.8 + 1e-5)).toFixed(4), +(0.5 / Math.sqrt(1.2 + 1e-5)).toFixed(4)]);
  });

  it('a BatchNorm1d on [N, C]: RESHAPE to [N, C, 1] around the int8 depthwise Conv', async () => {
    const model = qdqModel({ rank: 2 });
    await legalize(model, 'full-integer=true io-type=int8');
    const ops = typed(model);
    expect(ops).toContain('DEPTHWISE_CONV_2D(int8)');
    for (const op of ops) expect(op, ops.join(' ')).not.toMatch(/float32/);
    expect((model.graph.outputs[0]!.type as TensorType).shape).toEqual([1, 2]);
  });

  it('refuses an int8 BatchNormalization of rank 5 with a symbolic batch by name', async () => {
    const error = await refusal(qdqModel({ rank: 5 }), 'full-integer=true');
    expect(error.diagnostics.slice(1).map((d) => [d.location?.node, d.reason])).toEqual([['bn', expect.stringMatching(/int8 BatchNormalization needs an input of rank 3 or 4 .*; its input is \[N,2,2,2,2\]/)]]);
  });
});
