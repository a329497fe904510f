/**
 * An int8 ConvTranspose on [N, C, L] (a 1-D transposed convolution: an audio or sequence decoder's upsampling, QDQ
 * from quantize-static) was refused by name ('2-D only'). It now runs as the float path's 2-D form: RESHAPE to
 * [N, C, 1, L] (int8, the same integers), TRANSPOSE_CONV int8 with the weights lifted to [Cout, 1, k, Cin] (per-channel
 * scales kept), RESHAPE back. TFLite 2.9 against ORT on the QDQ model: packages/conformance tflite-int8-deconv-1d.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type TensorType, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { runTflitePipeline } from '../../__tests__/helpers.js';

/** legalize-tflite{options} with the transforms and tflite passes; its statistics. */
async function legalize(model: Model, options: string): Promise<Map<string, number>> {
  return (await runTflitePipeline(model, `legalize-tflite{${options}}`)).statistics;
}

/** x [1, 4, 6] → Q/DQ → ConvTranspose (int8 weights [4, 3, 3] per output channel, int32 bias, stride 2) → Q/DQ → y. */
function qdqDeconv1d(attributes: { pads?: number[]; dilations?: number[] } = {}): Model {
  const b = new GraphBuilder();
  const pair = (value: Value, scale: number, zeroPoint: number, name: string): Value => {
    const s = b.constant(Tensor.scalar('float32', Math.fround(scale)));
    const z = b.constant(Tensor.scalar('uint8', zeroPoint));
    return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, z], {}, { name: `${name}_q` }), s, z], {}, { name: `${name}_dq`, outputs: [`${name}_reals`] });
  };
  const scales = [0.002, 0.02, 0.008].map(Math.fround);
  const xScale = Math.fround(4 / 255);
  const weight = b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int8', [4, 3, 3], Array.from({ length: 36 }, (_, i) => ((i * 53) % 255) - 127))), b.constant(Tensor.fromValues('float32', [3], scales)), b.constant(Tensor.fromValues('int8', [3], [0, 0, 0]))], { axis: attrs.int(1) }, { name: 'wt_dq' });
  const bias = b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int32', [3], [300, -2000, 700])), b.constant(Tensor.fromValues('float32', [3], scales.map((s) => Math.fround(s * xScale))))], { axis: attrs.int(0) }, { name: 'bt_dq' });
  const x = pair(b.input('x', tensorType('float32', [1, 4, 6])), xScale, 128, 'x');
  const up = b.op1('onnx.ConvTranspose', [x, weight, bias], { strides: attrs.ints([2]), pads: attrs.ints(attributes.pads ?? [1, 1]), ...(attributes.dilations ? { dilations: attrs.ints(attributes.dilations) } : {}) }, { name: 'up' });
  b.output(pair(up, 0.03, 120, 'y'));
  const model = b.model({ onnx: 13 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

const typed = (model: Model) => model.graph.nodeList().map((node) => `${node.op.slice(7)}(${(node.outputs[0]!.type as TensorType).dtype})`);

describe('legalize-tflite: int8 1-D ConvTranspose', () => {
  it('full-integer=true io-type=int8: RESHAPE → TRANSPOSE_CONV(int8) → RESHAPE, per-channel weights [3, 1, 3, 4], int32 bias; no float op', async () => {
    const model = qdqDeconv1d();
    const statistics = await legalize(model, 'full-integer=true io-type=int8');
    expect(statistics.get('float-ops-in-int8-model')).toBe(0);
    const ops = typed(model);
    expect(ops).toContain('TRANSPOSE_CONV(int8)');
    for (const op of ops) expect(op, ops.join(' ')).not.toMatch(/float32/);
    const deconv = model.graph.nodeList().find((node) => node.op === 'tflite.TRANSPOSE_CONV')!;
    const filter = deconv.input(1).constant!;
    expect([filter.dtype, filter.shape, filter.quant?.axis, filter.quant?.scale.length]).toEqual(['int8', [3, 1, 3, 4], 0, 3]);
    expect(deconv.input(3).constant?.dtype).toBe('int32');
    expect((model.graph.outputs[0]!.type as TensorType).shape).toEqual([1, 3, 11]);
  });

  it('default options: the 1-D int8 ConvTranspose runs int8 too (TRANSPOSE_CONV on int8 between the edges)', async () => {
    const model = qdqDeconv1d({ pads: [0, 1] });
    await legalize(model, '');
    expect(typed(model)).toContain('TRANSPOSE_CONV(int8)');
  });

  it('still refuses a dilated one by name', async () => {
    const error = await legalize(qdqDeconv1d({ dilations: [2] }), 'full-integer=true').then(() => undefined, (thrown: unknown) => thrown as Error);
    expect(String(error)).toMatch(/up.*dilated int8 ConvTranspose is not supported/s);
  });
});
