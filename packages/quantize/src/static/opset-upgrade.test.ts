import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { upgradeToOpset13 } from './opset-upgrade.js';

afterAll(() => disposeSharedOrtRunner());

function seeded(shape: number[], seed: number): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromValues('float32', shape, Array.from({ length: count }, (_, i) => Math.sin(seed * 3.7 + i * 0.91) * 2));
}

/** Every op whose opset-9 spelling changed by 13, in its opset-9 form (attributes), feeding one output each. */
function opset9Model(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 3, 4]));
  const outputs = [
    b.op1('onnx.Clip', [x], { min: attrs.float(-0.5), max: attrs.float(0.75) }, { outputs: ['clip'] }),
    b.op1('onnx.Slice', [x], { starts: attrs.ints([1, 0]), ends: attrs.ints([3, -1]), axes: attrs.ints([1, 2]) }, { outputs: ['slice'] }),
    b.op1('onnx.Squeeze', [b.op1('onnx.Unsqueeze', [x], { axes: attrs.ints([0, 3]) })], { axes: attrs.ints([3]) }, { outputs: ['squeeze'] }),
    b.op1('onnx.Pad', [x], { pads: attrs.ints([0, 1, 0, 0, 0, 2]), value: attrs.float(0.25) }, { outputs: ['pad'] }),
    b.op1('onnx.ReduceSum', [x], { axes: attrs.ints([1]), keepdims: attrs.int(0) }, { outputs: ['sum'] }),
    b.op1('onnx.Softmax', [x], { axis: attrs.int(2) }, { outputs: ['softmax'] }),
    b.op1('onnx.Dropout', [x], { ratio: attrs.float(0.3) }, { outputs: ['dropout'] }),
    ...b.op('onnx.Split', [x], { axis: attrs.int(2), split: attrs.ints([1, 3]) }, { outputs: ['split0', 'split1'] }),
    ...b.op('onnx.TopK', [x], { axis: attrs.int(2), k: attrs.int(2) }, { outputs: ['top_values', 'top_indices'] }),
  ];
  for (const output of outputs) b.output(output);
  const model = b.model();
  model.opsetImports.set('onnx', 9);
  return model;
}

describe('upgradeToOpset13', () => {
  it('rewrites attribute spellings to opset-13 inputs, and ONNX Runtime computes the same outputs before and after', async () => {
    const model = opset9Model();
    const feeds = { x: seeded([2, 3, 4], 1) };
    const before = await runOrt(encodeOnnx(model), feeds);
    const { blocking, rewritten } = upgradeToOpset13(model);
    expect(blocking).toEqual([]);
    expect(model.opset('onnx')).toBe(13);
    expect(Object.fromEntries(rewritten)).toEqual({ 'onnx.Clip': 1, 'onnx.Slice': 1, 'onnx.Unsqueeze': 1, 'onnx.Squeeze': 1, 'onnx.Pad': 1, 'onnx.ReduceSum': 1, 'onnx.Dropout': 1, 'onnx.Split': 1, 'onnx.TopK': 1 });
    const after = await runOrt(encodeOnnx(model), feeds);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [name, tensor] of before) {
      expect(after.get(name)!.shape, name).toEqual(tensor.shape);
      expect(after.get(name)!.toNumbers(), name).toEqual(tensor.toNumbers());
    }
  });

  it('leaves a model whose Softmax changes meaning untouched and names the node', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 3, 4]));
    b.output(b.op1('onnx.Clip', [b.op1('onnx.Softmax', [x], { axis: attrs.int(1) }, { name: 'attn' })], { min: attrs.float(0) }));
    // Nearest rounding of computed scales depends on whether each is below 1 (opset-upgrade-resize.ts).
    b.output(b.op1('onnx.Upsample', [x, b.op1('onnx.Abs', [b.constant(Tensor.fromValues('float32', [3], [1, 1, 2]), 'scales')])], {}, { name: 'up' }));
    const model = b.model();
    model.opsetImports.set('onnx', 9);
    const { blocking } = upgradeToOpset13(model);
    expect(blocking.map(({ node, reason }) => `${node.name}: ${reason}`)).toEqual([
      'attn: it normalizes from axis 1 of a rank-3 input, which opset 13 reads as that one axis only',
      'up: its scales are computed, and the nearest rounding ONNX Runtime applied depends on whether each is below 1',
    ]);
    expect(model.opset('onnx')).toBe(9);
    expect([...model.graph.nodesOf('onnx.Clip')][0]!.hasAttribute('min')).toBe(true);
  });

  it('drops an opset-8 BatchNormalization spatial=1 (what opset 9 always does), and ONNX Runtime computes the same outputs before and after', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 3, 4, 4]));
    const channel = (seed: number, positive = false): ReturnType<typeof b.constant> =>
      b.constant(Tensor.fromValues('float32', [3], [0, 1, 2].map((i) => (positive ? 0.5 + Math.abs(Math.sin(seed + i)) : Math.sin(seed + i)))));
    b.output(b.op1('onnx.BatchNormalization', [x, channel(1), channel(2), channel(3), channel(4, true)], { spatial: attrs.int(1), epsilon: attrs.float(1e-3) }, { outputs: ['bn'] }));
    const model = b.model();
    model.opsetImports.set('onnx', 8);
    const feeds = { x: seeded([2, 3, 4, 4], 2) };
    const before = await runOrt(encodeOnnx(model), feeds);
    const { blocking, rewritten } = upgradeToOpset13(model);
    expect(blocking).toEqual([]);
    expect(Object.fromEntries(rewritten)).toEqual({ 'onnx.BatchNormalization': 1 });
    expect(model.opset('onnx')).toBe(13);
    const after = await runOrt(encodeOnnx(model), feeds);
    expect(after.get('bn')!.toNumbers()).toEqual(before.get('bn')!.toNumbers());
  });

  it('leaves an opset-8 model with BatchNormalization spatial=0 or a Scan-8 untouched and names the nodes', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 3, 4, 4]));
    const channel = (): ReturnType<typeof b.constant> => b.constant(Tensor.fromValues('float32', [3], [1, 1, 1]));
    b.output(b.op1('onnx.BatchNormalization', [x, channel(), channel(), channel(), channel()], { spatial: attrs.int(0) }, { name: 'bn' }));
    b.output(b.op1('onnx.Clip', [x], { min: attrs.float(0) }, { name: 'clip' }));
    const model = b.model();
    model.opsetImports.set('onnx', 8);
    const { blocking } = upgradeToOpset13(model);
    expect(blocking.map(({ node, reason }) => `${node.name}: ${reason}`)).toEqual(['bn: spatial=0 (statistics per activation) has no spelling after opset 8']);
    expect(model.opset('onnx')).toBe(8);
    expect([...model.graph.nodesOf('onnx.Clip')][0]!.hasAttribute('min')).toBe(true);
    expect([...model.graph.nodesOf('onnx.BatchNormalization')][0]!.hasAttribute('spatial')).toBe(true);
  });

  it('refuses opsets it does not upgrade from', () => {
    const model = opset9Model();
    model.opsetImports.set('onnx', 6);
    expect(() => upgradeToOpset13(model)).toThrow(/opsets 7–12, not 6/);
  });

  it('takes opset-11 models (torch exports): attribute Squeeze/Unsqueeze/Split/ReduceSum and Dropout-10 ratio become inputs, Pad-11/Clip-11/Resize-11 stay, and ONNX Runtime computes the same', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 3, 4]));
    const image = b.input('image', tensorType('float32', [1, 2, 3, 3]));
    const outputs = [
      b.op1('onnx.Clip', [x, b.constant(Tensor.scalar('float32', -0.5)), b.constant(Tensor.scalar('float32', 0.75))], {}, { outputs: ['clip'] }),
      b.op1('onnx.Squeeze', [b.op1('onnx.Unsqueeze', [x], { axes: attrs.ints([0, 3]) })], { axes: attrs.ints([3]) }, { outputs: ['squeeze'] }),
      b.op1('onnx.Pad', [x, b.constant(Tensor.fromValues('int64', [6], [0n, 1n, 0n, 0n, 0n, 2n]))], {}, { outputs: ['pad'] }),
      b.op1('onnx.ReduceSum', [x], { axes: attrs.ints([1]), keepdims: attrs.int(0) }, { outputs: ['sum'] }),
      b.op1('onnx.Dropout', [x], { ratio: attrs.float(0.3) }, { outputs: ['dropout'] }),
      ...b.op('onnx.Split', [x], { axis: attrs.int(2), split: attrs.ints([1, 3]) }, { outputs: ['split0', 'split1'] }),
      b.op1('onnx.Resize', [image, b.constant(Tensor.fromValues('float32', [0], [])), b.constant(Tensor.fromValues('float32', [4], [1, 1, 2, 2]))], { mode: attrs.string('linear') }, { outputs: ['resize'] }),
    ];
    for (const output of outputs) b.output(output);
    const model = b.model();
    model.opsetImports.set('onnx', 11);
    const feeds = { x: seeded([2, 3, 4], 1), image: seeded([1, 2, 3, 3], 2) };
    const before = await runOrt(encodeOnnx(model), feeds);
    const { blocking, rewritten } = upgradeToOpset13(model);
    expect(blocking).toEqual([]);
    expect(model.opset('onnx')).toBe(13);
    expect(Object.fromEntries(rewritten)).toEqual({ 'onnx.Unsqueeze': 1, 'onnx.Squeeze': 1, 'onnx.ReduceSum': 1, 'onnx.Dropout': 1, 'onnx.Split': 1 });
    const after = await runOrt(encodeOnnx(model), feeds);
    for (const [name, tensor] of before) expect(after.get(name)!.toNumbers(), name).toEqual(tensor.toNumbers());
  });

  it('leaves an opset-10 nearest Resize that no Resize-13 rounding matches (one axis enlarged, one shrunk) in place and names it', () => {
    const b = new GraphBuilder();
    const image = b.input('image', tensorType('float32', [1, 2, 3, 3]));
    b.output(b.op1('onnx.Resize', [image, b.constant(Tensor.fromValues('float32', [4], [1, 1, 2, 0.5]), 'scales')], { mode: attrs.string('nearest') }, { name: 'up10', outputs: ['y'] }));
    const model = b.model();
    model.opsetImports.set('onnx', 10);
    const { blocking } = upgradeToOpset13(model);
    expect(blocking.map(({ node, reason }) => `${node.name}: ${reason}`)).toEqual([
      'up10: its scales [1, 1, 2, 0.5] enlarge one axis and shrink another, which ONNX Runtime rounded down and up respectively; one nearest_mode of Resize-11 cannot do both',
    ]);
    expect(model.opset('onnx')).toBe(10);
  });
});
