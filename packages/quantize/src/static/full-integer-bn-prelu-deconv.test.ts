/**
 * full-integer=true left three ops float (QA s18): DenseNet's BatchNormalization after a Concat (fuse-bn folds only into
 * a Conv/Gemm), PRelu, and ConvTranspose — "quantize-static has no integer rule", so legalize-tflite{full-integer=true}
 * refused the model. Now the BatchNormalization and PRelu keep ranges of their own (the PRelu's slope quantized on its
 * own range, as an Add's constant operand is), the ConvTranspose quantizes like a Conv (int8 weights per output channel,
 * axis 1; int32 bias). ORT runs the QDQ model close to the float one; without full-integer the three stay float.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type Node } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { cosine, randomTensor, runPipeline } from '../__tests__/weights-helpers.js';

afterAll(async () => {
  await disposeSharedOrtRunner();
});

const positive = (count: number, seed: number, low: number, span: number): Tensor => Tensor.fromValues('float32', [count], randomTensor([count], seed, 1).toNumbers().map((v) => Math.fround(low + span * Math.abs(v))));

/** x → Conv → Concat(conv, Relu(conv)) → BatchNormalization → PRelu (per-channel slope) → ConvTranspose (stride 2). */
function net(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 3, 8, 8]));
  const conv = b.op1('onnx.Conv', [x, b.constant(randomTensor([4, 3, 3, 3], 1, 0.5), 'w1'), b.constant(randomTensor([4], 2, 0.1), 'b1')], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv1' });
  const joined = b.op1('onnx.Concat', [conv, b.op1('onnx.Relu', [conv], {}, { name: 'relu' })], { axis: attrs.int(1) }, { name: 'concat' });
  const parameters = [positive(8, 3, 0.5, 1), randomTensor([8], 4, 0.1), randomTensor([8], 5, 0.2), positive(8, 6, 0.5, 1)].map((t, i) => b.constant(t, `bn_${i}`));
  const normalized = b.op1('onnx.BatchNormalization', [joined, ...parameters], {}, { name: 'bn' });
  const activated = b.op1('onnx.PRelu', [normalized, b.constant(positive(8, 7, 0.05, 0.4).reshape([8, 1, 1]), 'slope')], {}, { name: 'prelu' });
  b.output(b.op1('onnx.ConvTranspose', [activated, b.constant(randomTensor([8, 2, 2, 2], 8, 0.4), 'wt'), b.constant(randomTensor([2], 9, 0.1), 'bt')], { strides: attrs.ints([2, 2]), kernel_shape: attrs.ints([2, 2]) }, { name: 'up', outputs: ['y'] }));
  return b.model({ onnx: 13 });
}

const named = (model: Model, name: string): Node => [...model.graph.nodes()].find((node) => node.name === name)!;

describe('quantize-static full-integer=true: BatchNormalization after a Concat, PRelu, ConvTranspose', () => {
  it('quantizes all three (no node left float); ORT runs the QDQ model close to the float one', async () => {
    const model = net();
    const float = decodeOnnx(encodeOnnx(model));
    const run = await runPipeline(model, 'quantize-static{samples=16 full-integer=true}');
    expect(run.warnings.filter((w) => w.startsWith('full-integer:'))).toEqual([]);
    // Not a warning under full-integer (densenet121 has 60 such BatchNormalizations): a note.
    expect(run.warnings.filter((w) => w.includes("BatchNormalization 'bn'"))).toEqual([]);
    expect(run.notes.find((w) => w.includes("BatchNormalization 'bn'"))).toMatch(/is quantized on its own/);
    for (const name of ['bn', 'prelu', 'up']) {
      const node = named(model, name);
      expect(node.inputs[0]!.producer?.op, name).toBe('onnx.DequantizeLinear');
      expect(node.output(0).users.map((user) => user.op), name).toEqual(['onnx.QuantizeLinear']);
    }
    // The slope is stored as integers behind a DequantizeLinear; the ConvTranspose's weight int8, its bias int32.
    expect(named(model, 'prelu').inputs[1]!.producer?.op).toBe('onnx.DequantizeLinear');
    const weight = named(model, 'up').inputs[1]!.producer!;
    expect([weight.op, weight.input(0).constant?.dtype]).toEqual(['onnx.DequantizeLinear', 'int8']);
    expect(named(model, 'up').inputs[2]!.producer!.input(0).constant?.dtype).toBe('int32');
    const feed = { x: randomTensor([1, 3, 8, 8], 11, 1) };
    const [expected] = [...(await runOrt(float, feed)).values()];
    const [actual] = [...(await runOrt(model, feed)).values()];
    expect(cosine(expected!, actual!)).toBeGreaterThan(0.99);
  }, 120_000);

  it('a grouped ConvTranspose stays float, named in the full-integer warning', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [1, 4, 4, 4]));
    const conv = b.op1('onnx.Conv', [x, b.constant(randomTensor([4, 4, 1, 1], 1, 0.5), 'w1')], {}, { name: 'conv1' });
    b.output(b.op1('onnx.ConvTranspose', [conv, b.constant(randomTensor([4, 1, 2, 2], 2, 0.5), 'wt')], { strides: attrs.ints([2, 2]), group: attrs.int(2) }, { name: 'up', outputs: ['y'] }));
    const run = await runPipeline(b.model({ onnx: 13 }), 'quantize-static{samples=16 full-integer=true}');
    expect(run.warnings.find((w) => w.startsWith('full-integer:'))).toMatch(/ConvTranspose 'up' \(it is grouped \(int8 targets take a ConvTranspose with one group/);
  }, 120_000);

  it('without full-integer the three stay float (ORT has no integer kernel for them)', async () => {
    const model = net();
    await runPipeline(model, 'quantize-static{samples=16}');
    for (const name of ['bn', 'prelu', 'up']) expect(named(model, name).inputs[0]!.producer?.op, name).not.toBe('onnx.DequantizeLinear');
  }, 120_000);
});
