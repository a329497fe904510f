/**
 * legalize-tflite{full-integer=true}: a QDQ model whose every op is quantized (Q/DQ around the output too)
 * converts with no float op between the edges; one whose classifier keeps a float output (quantize-static's
 * default), or a float model, is refused before anything changes, naming each node that would stay float.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType, type Model, type TensorType, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { runTflitePipeline } from '../../__tests__/helpers.js';

/** legalize-tflite{options} with the transforms and tflite passes; its statistics. */
async function legalize(model: Model, options: string): Promise<Map<string, number>> {
  return (await runTflitePipeline(model, `legalize-tflite{${options}}`)).statistics;
}

const X_SCALE = Math.fround(0.02);
const H_SCALE = Math.fround(0.05);
const W_SCALES = [0.01, 0.02, 0.03].map(Math.fround);

/**
 * x → Q/DQ (uint8) → Conv 1×1 (int8 per-channel weights, int32 bias) → Q/DQ → Flatten → Gemm (int8 weights) → logits,
 * with `quantizedLogits` a Q/DQ pair between the Gemm and the output (quantize-static's quantize-outputs), else float logits.
 */
function qdqModel(quantizedLogits: boolean): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 2, 2, 2]));
  const pair = (value: Value, scale: number, zeroPoint: number, name: string): Value => {
    const s = b.constant(Tensor.scalar('float32', scale));
    const z = b.constant(Tensor.scalar('uint8', zeroPoint));
    return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, z], {}, { name: `${name}_q` }), s, z], {}, { name: `${name}_dq` });
  };
  const xr = pair(x, X_SCALE, 128, 'x');
  const w = b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int8', [3, 2, 1, 1], [10, -20, 30, -40, 127, -127])), b.constant(Tensor.fromValues('float32', [3], W_SCALES)), b.constant(Tensor.fromValues('int8', [3], [0, 0, 0]))], { axis: attrs.int(0) }, { name: 'w_dq' });
  const bias = b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int32', [3], [100, -200, 300])), b.constant(Tensor.fromValues('float32', [3], W_SCALES.map((s) => Math.fround(s * X_SCALE))))], { axis: attrs.int(0) }, { name: 'bias_dq' });
  const conv = b.op1('onnx.Conv', [xr, w, bias], { kernel_shape: attrs.ints([1, 1]) }, { name: 'conv' });
  const hr = pair(conv, H_SCALE, 0, 'h');
  const flat = pair(b.op1('onnx.Flatten', [hr], { axis: attrs.int(1) }, { name: 'flatten' }), H_SCALE, 0, 'flat');
  const fcScale = Math.fround(0.004);
  const fc = b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int8', [2, 12], Array.from({ length: 24 }, (_, i) => ((i * 37) % 255) - 127))), b.constant(Tensor.scalar('float32', fcScale)), b.constant(Tensor.scalar('int8', 0))], {}, { name: 'fc_dq' });
  const gemm = b.op1('onnx.Gemm', [flat, fc], { transB: attrs.int(1) }, { name: 'classifier' });
  b.output(quantizedLogits ? pair(gemm, Math.fround(0.1), 120, 'logits') : gemm);
  const model = b.model({ onnx: 17 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

function floatModel(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 4]));
  const w = b.constant(Tensor.fromValues('float32', [4, 3], Array.from({ length: 12 }, (_, i) => i / 10)));
  b.output(b.op1('onnx.Relu', [b.op1('onnx.MatMul', [x, w], {}, { name: 'matmul' })], {}, { name: 'relu' }));
  const model = b.model({ onnx: 17 });
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

const dtypes = (model: Model) => model.graph.nodeList().map((node) => `${node.op.slice(7)}(${[...node.inputs, ...node.outputs].filter((v): v is Value => !!v).map((v) => (v.type as TensorType).dtype).join(',')})`);

describe('legalize-tflite full-integer=true', () => {
  it('converts a model quantized around its output too: every op int8/int32, int8 input and output with io-type=int8', async () => {
    const model = qdqModel(true);
    const statistics = await legalize(model, 'full-integer=true io-type=int8');
    expect(statistics.get('float-ops-in-int8-model')).toBe(0);
    const ops = dtypes(model);
    for (const op of ops) expect(op, ops.join(' ')).not.toMatch(/float32/);
    expect(model.graph.inputs.map((v) => (v.type as TensorType).dtype)).toEqual(['int8']);
    expect(model.graph.outputs.map((v) => (v.type as TensorType).dtype)).toEqual(['int8']);
  });

  it('with float io, only the input QUANTIZE and the output DEQUANTIZE touch float32', async () => {
    const model = qdqModel(true);
    await legalize(model, 'full-integer=true');
    const floats = dtypes(model).filter((op) => op.includes('float32'));
    expect(floats).toEqual(['QUANTIZE(float32,int8)', 'DEQUANTIZE(int8,float32)']);
  });

  it('an NCHW image output too: the layout TRANSPOSEs run on int8, between the QUANTIZE and the DEQUANTIZE', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [1, 2, 3, 3]));
    const pair = (value: Value, scale: number, zeroPoint: number, name: string): Value => {
      const s = b.constant(Tensor.scalar('float32', scale));
      const z = b.constant(Tensor.scalar('uint8', zeroPoint));
      return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, z], {}, { name: `${name}_q` }), s, z], {}, { name: `${name}_dq` });
    };
    const w = b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int8', [3, 2, 1, 1], [10, -20, 30, -40, 127, -127])), b.constant(Tensor.fromValues('float32', [3], W_SCALES)), b.constant(Tensor.fromValues('int8', [3], [0, 0, 0]))], { axis: attrs.int(0) }, { name: 'w_dq' });
    b.output(pair(b.op1('onnx.Conv', [pair(x, X_SCALE, 128, 'x'), w], { kernel_shape: attrs.ints([1, 1]) }, { name: 'conv' }), H_SCALE, 100, 'y'));
    const model = b.model({ onnx: 17 });
    inferShapes(model, { mode: 'refresh' });
    await legalize(model, 'full-integer=true');
    const ops = dtypes(model);
    expect(ops.filter((op) => op.includes('float32'))).toEqual(['QUANTIZE(float32,int8)', 'DEQUANTIZE(int8,float32)']);
    expect(ops.filter((op) => op.startsWith('TRANSPOSE'))).toEqual(['TRANSPOSE(int8,int32,int8)', 'TRANSPOSE(int8,int32,int8)']);
    expect(model.graph.outputs.map((v) => [v.name, (v.type as TensorType).shape])).toEqual([[expect.any(String), [1, 3, 3, 3]]]);
  });

  it('refuses the float-output classifier by name, before anything changes, with the quantize-static hint', async () => {
    const model = qdqModel(false);
    const error = await refusal(model, 'full-integer=true io-type=int8');
    const [head, ...nodes] = error.diagnostics;
    expect(head!.reason).toMatch(/full-integer=true: 1 node\(s\) would stay float32; nothing was written/);
    expect(head!.hint).toMatch(/quantize-static\{full-integer=true\}/);
    expect(nodes.map((d) => d.reason)).toEqual([expect.stringMatching(/^onnx\.Gemm 'classifier' would stay float: its output '.*' is float32 \(the model does not quantize it\)/)]);
    expect(nodes[0]!.location?.node).toBe('classifier');
    // Without the option the same model converts, the Gemm in float between DEQUANTIZE and QUANTIZE.
    expect((await legalize(qdqModel(false), 'io-type=int8')).get('float-ops-in-int8-model')).toBe(1);
  });

  it('refuses a float model, naming every float op', async () => {
    const error = await refusal(floatModel(), 'full-integer=true');
    expect(error.diagnostics[0]!.reason).toMatch(/no quantized activations: all 2 float op\(s\) would stay float32/);
    expect(error.diagnostics.slice(1).map((d) => d.location?.node)).toEqual(['matmul', 'relu']);
  });
});
