/**
 * quantize-static's defaults keep a returned activation float (SSDlite's backbone: two feature maps that are
 * x · HardSigmoid(x) at opset 13, returned, then quantized for the next Conv). legalize-tflite ran that HardSwish as
 * DEQUANTIZE → MUL/ADD/MINIMUM/MAXIMUM/MUL in float → QUANTIZE; now the float island is a 256-code table (CAST →
 * GATHER on int8) with ORT's float32 results quantized half to even, and the output a DEQUANTIZE of its integers.
 * TFLite 2.9 vs ORT: packages/conformance tflite-int8-returned-hardswish.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type TensorType, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { runTflitePipeline } from '../../__tests__/helpers.js';

/** legalize-tflite{options} with the transforms and tflite passes; its statistics. */
async function legalize(model: Model, options: string): Promise<Map<string, number>> {
  return (await runTflitePipeline(model, `legalize-tflite{${options}}`)).statistics;
}

const H = { scale: 0.03, zeroPoint: 130 };
const FEAT = { scale: 0.015, zeroPoint: 20 };

/** x → Q/DQ → Conv → Q/DQ (h) → h·HardSigmoid(h) = feat (graph output, float) → Q/DQ → Conv → Q/DQ → y, as quantize-static writes it. */
function returnedHardSwishModel(gate: 'hard-sigmoid' | 'relu' = 'hard-sigmoid'): Model {
  const b = new GraphBuilder();
  const pair = (value: Value, scale: number, zeroPoint: number, name: string): Value => {
    const s = b.constant(Tensor.scalar('float32', Math.fround(scale)));
    const z = b.constant(Tensor.scalar('uint8', zeroPoint));
    return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, z], {}, { name: `${name}_q` }), s, z], {}, { name: `${name}_dq` });
  };
  const weights = b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int8', [2, 2, 1, 1], [40, -90, 127, 15])), b.constant(Tensor.fromValues('float32', [2], [0.01, 0.02].map(Math.fround))), b.constant(Tensor.fromValues('int8', [2], [0, 0]))], { axis: attrs.int(0) });
  const x = pair(b.input('x', tensorType('float32', [1, 2, 4, 4])), 0.02, 128, 'x');
  const h = pair(b.op1('onnx.Conv', [x, weights], { kernel_shape: attrs.ints([1, 1]) }, { name: 'conv1' }), H.scale, H.zeroPoint, 'h');
  const activation = gate === 'relu' ? b.op1('onnx.Relu', [h], {}, { name: 'gate' }) : b.op1('onnx.HardSigmoid', [h], { alpha: attrs.float(1 / 6) }, { name: 'gate' });
  const feat = b.op1('onnx.Mul', [h, activation], {}, { name: 'hardswish', outputs: ['feat'] });
  b.output(feat);
  b.output(pair(b.op1('onnx.Conv', [pair(feat, FEAT.scale, FEAT.zeroPoint, 'feat'), weights], { kernel_shape: attrs.ints([1, 1]) }, { name: 'conv2' }), 0.01, 125, 'y'));
  const model = b.model({ onnx: 13 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

const typed = (model: Model) => model.graph.nodeList().map((node) => `${node.op.slice(7)}(${[...node.inputs, ...node.outputs].filter((v): v is Value => !!v && !v.isConstant).map((v) => (v.type as TensorType).dtype).join(',')})`);

/** ONNX QuantizeLinear of a float32 real (half to even, saturated to uint8), shifted to int8 as legalize-tflite stores it. */
function ortCode(real: number, scale: number, zeroPoint: number): number {
  const scaled = Math.fround(real / Math.fround(scale));
  const rounded = Math.abs(scaled - Math.trunc(scaled)) === 0.5 ? 2 * Math.round(scaled / 2) : Math.round(scaled);
  return Math.max(0, Math.min(255, rounded + zeroPoint)) - 128;
}

describe('legalize-tflite: a float island on one int8 value (a returned HardSwish) as an int8 table', () => {
  it('x·HardSigmoid(x) returned and quantized for the next Conv: CAST → GATHER on int8, no float op but the output DEQUANTIZE', async () => {
    const model = returnedHardSwishModel();
    const statistics = await legalize(model, '');
    expect(statistics.get('float-ops-in-int8-model')).toBe(0);
    const ops = typed(model);
    expect(ops.filter((op) => op.includes('float32'))).toEqual(['QUANTIZE(float32,int8)', 'DEQUANTIZE(int8,float32)', 'DEQUANTIZE(int8,float32)']);
    expect(ops, ops.join(' ')).toContain('GATHER(int32,int8)');
    expect(ops.filter((op) => op.startsWith('CONV_2D'))).toEqual(['CONV_2D(int8,int8)', 'CONV_2D(int8,int8)']);
    const feat = model.graph.outputs[0]!;
    expect([feat.name, feat.producer?.op]).toEqual(['feat', 'tflite.DEQUANTIZE']);
    // The table: h's 256 codes dequantized, h·clamp(h/6 + 0.5, 0, 1) in float32, quantized with feat's parameters as ORT does.
    const gather = model.graph.nodeList().find((node) => node.op === 'tflite.GATHER')!;
    const table = gather.input(0).constant!.toNumbers();
    for (let code = -128; code <= 127; code++) {
      const h = Math.fround((code + 128 - H.zeroPoint) * Math.fround(H.scale));
      const gate = Math.max(0, Math.min(1, Math.fround(Math.fround(Math.fround(1 / 6) * h) + 0.5)));
      expect(table[(code + 256) % 256], `code ${code}`).toBe(ortCode(Math.fround(h * gate), FEAT.scale, FEAT.zeroPoint));
    }
  });

  it('x·Relu(x): the same table form (any elementwise island on one value)', async () => {
    const model = returnedHardSwishModel('relu');
    const statistics = await legalize(model, '');
    expect(statistics.get('float-ops-in-int8-model')).toBe(0);
    expect(typed(model).filter((op) => op.startsWith('MUL') || op.startsWith('RELU'))).toEqual([]);
  });
});
