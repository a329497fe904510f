/**
 * full-integer=true on two spellings it left float (issue 12, s16 note "Left"): a Relu whose Conv output has other
 * readers (it cannot fold into the Conv's range, so it was named as float), and torch's `x.mean((2, 3))` (a
 * ReduceMean over the spatial axes instead of GlobalAveragePool). Now the Relu keeps its own range (ORT runs
 * DQ → Relu → Q, TFLite RELU int8) and the ReduceMean too (TFLite MEAN int8): no node stays float; ORT runs it.
 * And data movement right after a graph input (torch's x.unsqueeze(1)) was left float ("its input does not come
 * from a quantized op"): full-integer counts the graph input as quantized (its QuantizeLinear is the first op).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { cosine, randomTensor, runPipeline } from '../__tests__/weights-helpers.js';

afterAll(async () => {
  await disposeSharedOrtRunner();
});

/** x → Conv → (Relu, and the Conv output itself) → Add → Conv → Relu → ReduceMean over (2, 3) → Gemm. */
function net(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 3, 8, 8]));
  const conv = b.op1('onnx.Conv', [x, b.constant(randomTensor([4, 3, 3, 3], 1, 0.5), 'w1'), b.constant(randomTensor([4], 2, 0.1), 'b1')], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv1', outputs: ['conv1_out'] });
  const relu = b.op1('onnx.Relu', [conv], {}, { name: 'relu1' });
  const sum = b.op1('onnx.Add', [relu, conv], {}, { name: 'residual' });
  const conv2 = b.op1('onnx.Conv', [sum, b.constant(randomTensor([6, 4, 3, 3], 3, 0.4), 'w2'), b.constant(randomTensor([6], 4, 0.1), 'b2')], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv2' });
  const relu2 = b.op1('onnx.Relu', [conv2], {}, { name: 'relu2' });
  const mean = b.op1('onnx.ReduceMean', [relu2], { axes: attrs.ints([2, 3]), keepdims: attrs.int(0) }, { name: 'mean' });
  b.output(b.op1('onnx.Gemm', [mean, b.constant(randomTensor([5, 6], 5, 0.5), 'fc_w'), b.constant(randomTensor([5], 6, 0.1), 'fc_b')], { transB: attrs.int(1) }, { name: 'fc', outputs: ['logits'] }));
  return b.model({ onnx: 13 });
}

describe('quantize-static full-integer=true: a Relu with other readers, a spatial ReduceMean', () => {
  it('quantizes both: no node stays float, ORT runs it close to the float model', async () => {
    const model = net();
    const float = decodeOnnx(encodeOnnx(model));
    const debug: string[] = [];
    const run = await runPipeline(model, 'quantize-static{samples=16 full-integer=true}', debug);
    expect(run.warnings.filter((w) => w.startsWith('full-integer:'))).toEqual([]);
    const nodes = [...model.graph.nodes()];
    for (const name of ['relu1', 'mean']) {
      const node = nodes.find((n) => n.name === name)!;
      expect(node.inputs[0]!.producer?.op, name).toBe('onnx.DequantizeLinear');
      expect(node.output(0).users.map((user) => user.op), name).toEqual(['onnx.QuantizeLinear']);
    }
    const feed = { x: randomTensor([1, 3, 8, 8], 9, 1) };
    const [expected] = [...(await runOrt(float, feed)).values()];
    const [actual] = [...(await runOrt(model, feed)).values()];
    expect(cosine(expected!, actual!)).toBeGreaterThan(0.99);
  }, 120_000);

  it('an Unsqueeze right after the graph input runs on integers (the input quantized first)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [1, 8, 8]));
    const unsqueezed = b.op1('onnx.Unsqueeze', [x, b.constant(Tensor.fromValues('int64', [1], [1n]))], {}, { name: 'unsqueeze' });
    const conv = b.op1('onnx.Conv', [unsqueezed, b.constant(randomTensor([4, 1, 3, 3], 1, 0.5), 'w1'), b.constant(randomTensor([4], 2, 0.1), 'b1')], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv1' });
    b.output(b.op1('onnx.Flatten', [conv], { axis: attrs.int(1) }, { name: 'flatten', outputs: ['y'] }));
    const model = b.model({ onnx: 13 });
    const run = await runPipeline(model, 'quantize-static{samples=16 full-integer=true}');
    expect(run.warnings.filter((w) => w.startsWith('full-integer:'))).toEqual([]);
    const unsqueeze = [...model.graph.nodes()].find((node) => node.name === 'unsqueeze')!;
    expect(unsqueeze.inputs[0]!.producer?.op).toBe('onnx.DequantizeLinear');
  }, 120_000);
});
