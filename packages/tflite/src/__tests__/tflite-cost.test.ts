/**
 * FLOPs of tflite-dialect models (`inspect` of a .tflite): the cost rules of @modelpass/ops for tflite
 * builtins count as their ONNX counterparts do, with shapes inferred through the tflite dialect.
 */
import { describe, expect, it } from 'vitest';
import { attrs, Graph, Model, Tensor, tensorType } from '@modelpass/ir';
import { analyzeCost, createOpRegistry } from '@modelpass/ops';
import { registerTfliteDialect } from '@modelpass/tflite';
import { int8ConvModel } from './helpers.js';

const registry = registerTfliteDialect(createOpRegistry());

describe('cost rules for tflite builtins', () => {
  it('an int8 CONV_2D: outputs · kH·kW·I MACs, a bias FLOP per output; its QUANTIZE-free graph fully counted', () => {
    const cost = analyzeCost(int8ConvModel(), { registry });
    expect(cost.uncounted).toEqual([]);
    // output [1,4,4,3], filter [3,3,3,2]: 48 · 18 MACs
    expect(cost.macs).toBe(48 * 18);
    expect(cost.flops).toBe(2 * 48 * 18 + 48);
  });

  it('DEPTHWISE_CONV_2D, MAX_POOL_2D, FULLY_CONNECTED with a run-time batch (taken as 1), QUANTIZE/DEQUANTIZE of activations', () => {
    const graph = new Graph('main');
    const x = graph.addInput('x', tensorType('float32', [null, 8, 8, 4]));
    const dw = graph.createNode({
      op: 'tflite.DEPTHWISE_CONV_2D',
      inputs: [x, graph.addConstant('dw', Tensor.fromValues('float32', [1, 3, 3, 4], new Array(36).fill(0.1))), graph.addConstant('dwb', Tensor.fromValues('float32', [4], [0, 0, 0, 0]))],
      outputs: [{ name: 'd', type: tensorType('float32', [null, 8, 8, 4]) }],
      attributes: { padding: attrs.string('SAME'), stride_w: attrs.int(1), stride_h: attrs.int(1), depth_multiplier: attrs.int(1), fused_activation_function: attrs.string('RELU') },
    });
    const quant = { scale: [0.1], zeroPoint: [0], bits: 8 };
    const q = graph.createNode({ op: 'tflite.QUANTIZE', inputs: [dw.output(0)], outputs: [{ name: 'q', type: tensorType('int8', [null, 8, 8, 4], quant) }] });
    const deq = graph.createNode({ op: 'tflite.DEQUANTIZE', inputs: [q.output(0)], outputs: [{ name: 'dq', type: tensorType('float32', [null, 8, 8, 4]) }] });
    const pool = graph.createNode({
      op: 'tflite.MAX_POOL_2D',
      inputs: [deq.output(0)],
      outputs: [{ name: 'p', type: tensorType('float32', [null, 4, 4, 4]) }],
      attributes: { padding: attrs.string('VALID'), stride_w: attrs.int(2), stride_h: attrs.int(2), filter_width: attrs.int(2), filter_height: attrs.int(2), fused_activation_function: attrs.string('NONE') },
    });
    const fc = graph.createNode({
      op: 'tflite.FULLY_CONNECTED',
      inputs: [pool.output(0), graph.addConstant('w', Tensor.fromValues('float32', [10, 64], new Array(640).fill(0.01))), null],
      outputs: [{ name: 'y', type: tensorType('float32', [null, 10]) }],
      attributes: { fused_activation_function: attrs.string('NONE') },
    });
    graph.setOutputs([fc.output(0)]);
    const model = new Model(graph);
    model.opsetImports.set('tflite', 3);
    const cost = analyzeCost(model, { registry });
    expect(cost.uncounted).toEqual([]);
    const byOp = new Map(cost.layers.map((layer) => [layer.op, layer]));
    expect(byOp.get('tflite.DEPTHWISE_CONV_2D')!.macs).toBe(256 * 9);
    expect(byOp.get('tflite.QUANTIZE')!.flops).toBe(256);
    expect(byOp.get('tflite.DEQUANTIZE')!.flops).toBe(256);
    expect(byOp.get('tflite.MAX_POOL_2D')!.flops).toBe(64 * 4);
    expect(byOp.get('tflite.FULLY_CONNECTED')!.macs).toBe(10 * 64);
    expect(cost.assumptions.join(' ')).toMatch(/dim 0 = 1/);
  });
});
