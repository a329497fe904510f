/**
 * A quantized activation that is also a graph output (quantize-static on a returned feature map, SSDlite's backbone
 * outputs): `Conv → Relu → feat (output) → Q → DQ → Conv`. fold-qdq leaves that pair alone (the reals are returned), and
 * legalize-tflite ran the Relu and the next Conv in float between DEQUANTIZE and QUANTIZE. Now both stay int8 and the
 * output is a DEQUANTIZE of the Relu's integers under its own name (int8 with io-type=int8).
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type TensorType, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { runTflitePipeline } from '../../__tests__/helpers.js';

/** legalize-tflite{options} with the transforms and tflite passes; its statistics. */
async function legalize(model: Model, options: string): Promise<Map<string, number>> {
  return (await runTflitePipeline(model, `legalize-tflite{${options}}`)).statistics;
}

/** x → Q/DQ → Conv → Q/DQ → Relu → feat (graph output) → Q/DQ → Conv → Q/DQ → y, as quantize-static writes it (uint8 activations). */
function returnedFeatureModel(): Model {
  const b = new GraphBuilder();
  const pair = (value: Value, scale: number, zeroPoint: number, name: string, output = `${name}_reals`): Value => {
    const s = b.constant(Tensor.scalar('float32', Math.fround(scale)));
    const z = b.constant(Tensor.scalar('uint8', zeroPoint));
    return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, z], {}, { name: `${name}_q` }), s, z], {}, { name: `${name}_dq`, outputs: [output] });
  };
  const weights = (name: string) =>
    b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int8', [2, 2, 1, 1], [40, -90, 127, 15])), b.constant(Tensor.fromValues('float32', [2], [0.01, 0.02].map(Math.fround))), b.constant(Tensor.fromValues('int8', [2], [0, 0]))], { axis: attrs.int(0) }, { name });
  const x = pair(b.input('x', tensorType('float32', [1, 2, 4, 4])), 0.02, 128, 'x');
  const conv1 = pair(b.op1('onnx.Conv', [x, weights('w1_dq')], { kernel_shape: attrs.ints([1, 1]) }, { name: 'conv1' }), 0.03, 130, 'h');
  const feat = b.op1('onnx.Relu', [conv1], {}, { name: 'relu', outputs: ['feat'] });
  const conv2 = b.op1('onnx.Conv', [pair(feat, 0.015, 0, 'feat'), weights('w2_dq')], { kernel_shape: attrs.ints([1, 1]) }, { name: 'conv2' });
  b.output(feat);
  b.output(pair(conv2, 0.01, 125, 'conv2', 'y'));
  const model = b.model({ onnx: 17 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

/** quantize-static's defaults on SSDlite's backbone: x·HardSigmoid(x) stays float and is returned, then quantized for the next Conv. */
function returnedHardSwishModel(): Model {
  const b = new GraphBuilder();
  const pair = (value: Value, scale: number, zeroPoint: number, name: string): Value => {
    const s = b.constant(Tensor.scalar('float32', Math.fround(scale)));
    const z = b.constant(Tensor.scalar('uint8', zeroPoint));
    return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, z], {}, { name: `${name}_q` }), s, z], {}, { name: `${name}_dq` });
  };
  const weights = b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int8', [2, 2, 1, 1], [40, -90, 127, 15])), b.constant(Tensor.fromValues('float32', [2], [0.01, 0.02].map(Math.fround))), b.constant(Tensor.fromValues('int8', [2], [0, 0]))], { axis: attrs.int(0) });
  const x = pair(b.input('x', tensorType('float32', [1, 2, 4, 4])), 0.02, 128, 'x');
  const h = pair(b.op1('onnx.Conv', [x, weights], { kernel_shape: attrs.ints([1, 1]) }, { name: 'conv1' }), 0.03, 130, 'h');
  const gate = b.op1('onnx.HardSigmoid', [h], { alpha: attrs.float(1 / 6) }, { name: 'gate' });
  const feat = b.op1('onnx.Mul', [h, gate], {}, { name: 'hardswish', outputs: ['feat'] });
  b.output(feat);
  b.output(pair(b.op1('onnx.Conv', [pair(feat, 0.015, 20, 'feat'), weights], { kernel_shape: attrs.ints([1, 1]) }, { name: 'conv2' }), 0.01, 125, 'y'));
  const model = b.model({ onnx: 17 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

const typed = (model: Model) => model.graph.nodeList().map((node) => `${node.op.slice(7)}(${[...node.inputs, ...node.outputs].filter((v): v is Value => !!v && !v.isConstant).map((v) => (v.type as TensorType).dtype).join(',')})`);

describe('legalize-tflite: a quantized activation that is also a graph output', () => {
  it('keeps the Relu and the Conv after it int8; the output is a DEQUANTIZE of the Relu under its name', async () => {
    const model = returnedFeatureModel();
    const statistics = await legalize(model, '');
    expect(statistics.get('float-ops-in-int8-model')).toBe(0);
    const ops = typed(model);
    expect(ops.filter((op) => op.startsWith('CONV_2D'))).toEqual(['CONV_2D(int8,int8)', 'CONV_2D(int8,int8)']);
    expect(ops.filter((op) => op.includes('float32'))).toEqual(['QUANTIZE(float32,int8)', 'DEQUANTIZE(int8,float32)', 'DEQUANTIZE(int8,float32)']);
    const [feat, y] = model.graph.outputs;
    expect([feat!.name, y!.name]).toEqual(['feat', 'y']);
    expect(feat!.producer?.op).toBe('tflite.DEQUANTIZE');
    expect((feat!.producer!.input(0).type as TensorType).quant?.scale.map(Math.fround)).toEqual([Math.fround(0.015)]);
  });

  it("a float HardSwish of an int8 value, returned and quantized for the next Conv: converts (the output's inference read the uint8 storage: 'A is uint8 but B is float32'), the Conv int8", async () => {
    const model = returnedHardSwishModel();
    await legalize(model, '');
    const ops = typed(model);
    expect(ops.filter((op) => op.startsWith('CONV_2D'))).toEqual(['CONV_2D(int8,int8)', 'CONV_2D(int8,int8)']);
    expect(model.graph.outputs[0]!.name).toBe('feat');
  });

  it('full-integer=true io-type=int8: no float op, both outputs int8', async () => {
    const model = returnedFeatureModel();
    const statistics = await legalize(model, 'full-integer=true io-type=int8');
    expect(statistics.get('float-ops-in-int8-model')).toBe(0);
    for (const op of typed(model)) expect(op).not.toMatch(/float32/);
    expect(model.graph.outputs.map((v) => [v.name, (v.type as TensorType).dtype])).toEqual([['feat', 'int8'], ['y', 'int8']]);
  });
});
