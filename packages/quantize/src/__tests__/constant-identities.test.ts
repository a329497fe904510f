/**
 * PyTorch's exporter writes `Identity(initializer)` for every parameter whose values equal another's (zero
 * biases of torchvision's SqueezeNet/GoogLeNet/MNASNet, the deep-copied layers of nn.TransformerEncoder).
 * The quantizers read those weights and biases as "not a constant" and left the layers float (QA s12:
 * SqueezeNet 4.95 MB → 3.29 MB with 18 Convs float; quantize-dynamic left a 2-layer transformer's second
 * layer float and wrote a larger file). Each pass now forwards Identity(constant) first.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { randomTensor, runPipeline } from './weights-helpers.js';

/** x → conv1(bias = Identity(zeros)) → relu → conv2(bias = Identity(zeros)) → relu → head → y, 16 channels (reduction ≥ 32). */
function convsWithIdentityBiases(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 16, 6, 6]));
  const zeros = b.constant(Tensor.fromValues('float32', [16], Array(16).fill(0)), 'zeros');
  const bias1 = b.op1('onnx.Identity', [zeros], {}, { name: 'bias1_identity', outputs: ['conv1.bias'] });
  const bias2 = b.op1('onnx.Identity', [zeros], {}, { name: 'bias2_identity', outputs: ['conv2.bias'] });
  const conv1 = b.op1('onnx.Conv', [x, b.constant(randomTensor([16, 16, 3, 3], 1), 'w1'), bias1], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv1' });
  const relu = b.op1('onnx.Relu', [conv1], {}, { name: 'relu' });
  const conv2 = b.op1('onnx.Conv', [relu, b.constant(randomTensor([16, 16, 3, 3], 2), 'w2'), bias2], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv2' });
  // conv2 feeds a Conv (a graph output's Conv stays float: ORT fuses Conv only with a QuantizeLinear after it)
  const relu2 = b.op1('onnx.Relu', [conv2], {}, { name: 'relu2' });
  b.output(b.op1('onnx.Conv', [relu2, b.constant(randomTensor([4, 16, 1, 1], 4), 'w3')], {}, { name: 'head', outputs: ['y'] }));
  return b.model({ onnx: 13 });
}

/** x → MatMul(w) → MatMul(Identity(w)) → y: the second layer's weight is the first's, through an Identity. */
function matmulsWithIdentityWeight(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', ['batch', 32]));
  const w = b.constant(randomTensor([32, 32], 3), 'w');
  const copy = b.op1('onnx.Identity', [w], {}, { name: 'w_identity', outputs: ['layer2.weight'] });
  const h = b.op1('onnx.MatMul', [x, w], {}, { name: 'layer1' });
  b.output(b.op1('onnx.MatMul', [h, copy], {}, { name: 'layer2', outputs: ['y'] }));
  return b.model({ onnx: 13 });
}

describe('weights and biases behind Identity(constant), as PyTorch exports them', () => {
  it('quantize-static quantizes both Convs', async () => {
    const model = convsWithIdentityBiases();
    const run = await runPipeline(model, 'quantize-static{samples=4 per-channel-min-gain=0}');
    // conv1 and conv2 (with their int32 biases); the head is a graph output's Conv and stays float
    expect(run.statistics.get('weights-quantized')).toBe(2);
    expect([...model.graph.nodesOf('onnx.Identity')]).toHaveLength(0);
    expect([...model.graph.nodesOf('onnx.Conv')].filter((node) => node.inputs[2]?.producer?.op === 'onnx.DequantizeLinear')).toHaveLength(2);
  }, 60_000);

  it('quantize-dynamic quantizes both MatMuls', async () => {
    const run = await runPipeline(matmulsWithIdentityWeight(), 'quantize-dynamic');
    expect(run.statistics.get('layers-quantized')).toBe(2);
    expect(run.statistics.get('layers-skipped') ?? 0).toBe(0);
  }, 60_000);

  it('quantize-weights quantizes both MatMuls', async () => {
    const run = await runPipeline(matmulsWithIdentityWeight(), 'quantize-weights{bits=4 block-size=16}');
    expect(run.statistics.get('layers-quantized')).toBe(2);
    expect(run.statistics.get('layers-skipped') ?? 0).toBe(0);
  }, 60_000);

  it('an Identity of a constant that is a graph output stays', async () => {
    const model = matmulsWithIdentityWeight();
    const w = model.graph.getValue('w')!;
    const exposed = model.graph.createNode({ op: 'onnx.Identity', inputs: [w], outputs: [{ name: 'w_out', type: w.type }] });
    model.graph.addOutput(exposed.output(0));
    const run = await runPipeline(model, 'quantize-dynamic');
    expect(run.statistics.get('layers-quantized')).toBe(2);
    expect(model.graph.outputs.map((value) => value.name)).toContain('w_out');
  }, 60_000);
});
