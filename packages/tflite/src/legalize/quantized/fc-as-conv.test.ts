/**
 * The two rewrites of a per-channel FULLY_CONNECTED into RESHAPE → 1×1 CONV_2D → RESHAPE: the hybrid one
 * (float activations, dynamic-range weights) and the int8 one (TFLite 2.9's single weight scale).
 */
import { attrs, GraphBuilder, Tensor, tensorType, type Graph, type QuantParams, type TensorType, type Value } from '@modelpass/ir';
import { describe, expect, it } from 'vitest';
import { hybridFullyConnected } from './dynamic-range.js';
import { perChannelFullyConnectedAsConv } from './fc-as-conv.js';

const PER_CHANNEL: QuantParams = { scale: [0.1, 0.2], zeroPoint: [0, 0], axis: 0, bits: 8 };
const WEIGHTS = [1, -2, 3, -4, 5, -6, 7, -8];

function typeSummary(value: Value | null): unknown {
  if (!value) return null;
  const type = value.type as TensorType;
  return { dtype: type.dtype, shape: type.shape, ...(type.quant ? { quant: type.quant } : {}) };
}

/** Each node as op, name, inputs (constants by values) and output types: what the writer sees. */
function summary(graph: Graph): unknown[] {
  return graph.nodeList().map((node) => ({
    op: node.op,
    name: node.name,
    inputs: node.inputs.map((input) => (input?.constant ? { shape: input.constant.shape, values: input.constant.toNumbers() } : (input?.name ?? null))),
    attributes: Object.fromEntries([...node.attributes].map(([key, attribute]) => [key, 'value' in attribute ? attribute.value : attribute])),
    outputs: node.outputs.map(typeSummary),
  }));
}

const CONV_ATTRIBUTES = { padding: 'VALID', stride_w: 1, stride_h: 1, dilation_w_factor: 1, dilation_h_factor: 1, fused_activation_function: 'RELU' };

describe('hybridFullyConnected', () => {
  function model(quant: QuantParams) {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 3, 4]));
    const w = b.constant(Tensor.fromValues('int8', [2, 4], WEIGHTS, quant), 'w');
    const y = b.op1('tflite.FULLY_CONNECTED', [x, w], { fused_activation_function: attrs.string('RELU'), keep_num_dims: attrs.int(1) }, { name: 'fc', types: [tensorType('float32', [2, 3, 2])] });
    b.output(y);
    return b.graph;
  }

  it('writes per-channel weights as a 1x1 CONV_2D over rows, with a zero bias and the output dims restored', () => {
    const graph = model(PER_CHANNEL);
    expect(hybridFullyConnected(graph)).toBe(1);
    expect(summary(graph)).toEqual([
      { op: 'tflite.RESHAPE', name: 'fc_as_nhwc', inputs: ['x', { shape: [4], values: [-1, 1, 1, 4] }], attributes: {}, outputs: [{ dtype: 'float32', shape: [6, 1, 1, 4] }] },
      {
        op: 'tflite.CONV_2D',
        name: 'fc_as_conv',
        inputs: ['fc_as_nhwc_0', { shape: [2, 1, 1, 4], values: WEIGHTS }, { shape: [2], values: [0, 0] }],
        attributes: CONV_ATTRIBUTES,
        outputs: [{ dtype: 'float32', shape: [6, 1, 1, 2] }],
      },
      { op: 'tflite.RESHAPE', name: 'fc_units', inputs: ['fc_as_conv_0', { shape: [3], values: [2, 3, 2] }], attributes: {}, outputs: [{ dtype: 'float32', shape: [2, 3, 2] }] },
    ]);
    expect(graph.constants.map((value) => value.name)).toEqual(['w', 'fc_as_nhwc_shape', 'fc_bias', 'fc_filter', 'fc_units_shape']);
    expect(graph.outputs[0]!.producer!.name).toBe('fc_units');
  });

  it('keeps FULLY_CONNECTED for per-tensor weights, quantizing its inputs asymmetrically', () => {
    const graph = model({ scale: [0.1, 0.1], zeroPoint: [0, 0], axis: 0, bits: 8 });
    expect(hybridFullyConnected(graph)).toBe(1);
    expect(graph.nodeList().map((node) => node.op)).toEqual(['tflite.FULLY_CONNECTED']);
    expect(graph.nodeList()[0]!.getAttribute('asymmetric_quantize_inputs')).toEqual({ kind: 'int', value: 1 });
  });
});

describe('perChannelFullyConnectedAsConv', () => {
  it('writes an int8 FULLY_CONNECTED with per-channel weights as RESHAPE → 1x1 CONV_2D → RESHAPE, types and bias kept', () => {
    const b = new GraphBuilder();
    const inputQuant: QuantParams = { scale: [0.5], zeroPoint: [1], bits: 8 };
    const outputQuant: QuantParams = { scale: [0.25], zeroPoint: [-3], bits: 8 };
    const x = b.input('x', tensorType('int8', [3, 4], inputQuant));
    const w = b.constant(Tensor.fromValues('int8', [2, 4], WEIGHTS, PER_CHANNEL), 'w');
    const bias = b.constant(Tensor.fromValues('int32', [2], [10, -20]), 'bias');
    const y = b.op1('tflite.FULLY_CONNECTED', [x, w, bias], { fused_activation_function: attrs.string('RELU') }, { name: 'fc', types: [tensorType('int8', [3, 2], outputQuant)] });
    b.output(y);
    expect(perChannelFullyConnectedAsConv(b.graph)).toBe(1);
    expect(summary(b.graph)).toEqual([
      { op: 'tflite.RESHAPE', name: 'fc_as_nhwc', inputs: ['x', { shape: [4], values: [-1, 1, 1, 4] }], attributes: {}, outputs: [{ dtype: 'int8', shape: [3, 1, 1, 4], quant: inputQuant }] },
      {
        op: 'tflite.CONV_2D',
        name: 'fc_as_conv',
        inputs: ['fc_as_nhwc_0', { shape: [2, 1, 1, 4], values: WEIGHTS }, { shape: [2], values: [10, -20] }],
        attributes: CONV_ATTRIBUTES,
        outputs: [{ dtype: 'int8', shape: [3, 1, 1, 2], quant: outputQuant }],
      },
      { op: 'tflite.RESHAPE', name: 'fc_units', inputs: ['fc_as_conv_0', { shape: [2], values: [-1, 2] }], attributes: {}, outputs: [{ dtype: 'int8', shape: [3, 2], quant: outputQuant }] },
    ]);
    expect(b.graph.constants.map((value) => value.name)).toEqual(['w', 'bias', 'fc_as_nhwc_shape', 'fc_filter', 'fc_units_shape']);
  });

  it('writes a rank-3 input [1,3,4] as 3 rows of a 1x1 CONV_2D, reshaped back to [1,3,2]', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('int8', [1, 3, 4], { scale: [0.5], zeroPoint: [1], bits: 8 }));
    const w = b.constant(Tensor.fromValues('int8', [2, 4], WEIGHTS, PER_CHANNEL), 'w');
    b.output(b.op1('tflite.FULLY_CONNECTED', [x, w], { keep_num_dims: attrs.int(1) }, { name: 'fc', types: [tensorType('int8', [1, 3, 2], { scale: [0.25], zeroPoint: [0], bits: 8 })] }));
    expect(perChannelFullyConnectedAsConv(b.graph)).toBe(1);
    const [reshape, conv, back] = b.graph.nodeList();
    expect([reshape!.op, conv!.op, back!.op]).toEqual(['tflite.RESHAPE', 'tflite.CONV_2D', 'tflite.RESHAPE']);
    expect(typeSummary(reshape!.output(0))).toMatchObject({ dtype: 'int8', shape: [3, 1, 1, 4] });
    expect(typeSummary(conv!.output(0))).toMatchObject({ dtype: 'int8', shape: [3, 1, 1, 2], quant: { scale: [0.25] } });
    expect(back!.input(1).constant!.toNumbers()).toEqual([1, 3, 2]);
    expect(b.graph.outputs[0]!.producer).toBe(back);
  });

  it('refuses an output with two unknown dims, naming the node', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('int8', ['b', 't', 4], { scale: [0.5], zeroPoint: [1], bits: 8 }));
    const w = b.constant(Tensor.fromValues('int8', [2, 4], WEIGHTS, PER_CHANNEL), 'w');
    b.output(b.op1('tflite.FULLY_CONNECTED', [x, w], { keep_num_dims: attrs.int(1) }, { name: 'fc', types: [tensorType('int8', ['b', 't', 2], { scale: [0.25], zeroPoint: [0], bits: 8 })] }));
    expect(() => perChannelFullyConnectedAsConv(b.graph)).toThrow(/'fc'.*at most one unknown dim/);
  });
});
