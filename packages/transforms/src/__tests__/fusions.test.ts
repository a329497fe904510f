import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { fuseBatchNormPass, fusePass, fuseMatMulAddIntoGemmPass, fusePadIntoConvPass, fusePadIntoPoolPass, fuseTransposeIntoGemmPass } from '@modelpass/transforms';
import { evaluate, expectClose, opsOf, randomTensor, runPass } from './helpers.js';

const f32 = (shape: (number | string)[]) => tensorType('float32', shape);

function bnParams(b: GraphBuilder, channels: number, seed: number) {
  return [
    b.constant(randomTensor([channels], seed, 1, 0.5), 'gamma'),
    b.constant(randomTensor([channels], seed + 1), 'beta'),
    b.constant(randomTensor([channels], seed + 2), 'mean'),
    b.constant(randomTensor([channels], seed + 3, 1.2, 0.5), 'var'),
  ];
}

async function expectSameOutputs(model: Model, build: () => Model, inputs: Record<string, Tensor>, pass = fusePass) {
  const before = evaluate(build(), inputs);
  const run = await runPass(pass, model);
  const after = evaluate(model, inputs);
  before.forEach((t, i) => expectClose(t, after[i]!));
  return run;
}

describe('fusions keep outputs (checked with the reference kernels)', () => {
  it('folds BatchNormalization into a grouped Conv with bias', async () => {
    const build = () => {
      const b = new GraphBuilder();
      const x = b.input('x', f32([1, 4, 5, 5]));
      const w = b.constant(randomTensor([6, 2, 3, 3], 7), 'w');
      const bias = b.constant(randomTensor([6], 8), 'b');
      const conv = b.op1('onnx.Conv', [x, w, bias], { group: attrs.int(2), pads: attrs.ints([1, 1, 1, 1]) });
      b.output(b.op1('onnx.BatchNormalization', [conv, ...bnParams(b, 6, 11)], { epsilon: attrs.float(1e-3) }, { outputs: ['y'] }));
      return b.model();
    };
    const model = build();
    const run = await expectSameOutputs(model, build, { x: randomTensor([1, 4, 5, 5], 3) });
    expect(opsOf(model)).toEqual(['Conv']);
    expect(model.graph.outputs[0]!.name).toBe('y');
    expect(run.statistics.get('nodes-fused')).toBe(1);
  });

  it('folds BatchNormalization into a grouped ConvTranspose without bias', async () => {
    const build = () => {
      const b = new GraphBuilder();
      const x = b.input('x', f32([1, 4, 3, 3]));
      const w = b.constant(randomTensor([4, 3, 2, 2], 5), 'w');
      const conv = b.op1('onnx.ConvTranspose', [x, w], { group: attrs.int(2), strides: attrs.ints([2, 2]) });
      b.output(b.op1('onnx.BatchNormalization', [conv, ...bnParams(b, 6, 21)]));
      return b.model();
    };
    const model = build();
    await expectSameOutputs(model, build, { x: randomTensor([1, 4, 3, 3], 4) });
    expect(opsOf(model)).toEqual(['ConvTranspose']);
  });

  it('folds a per-channel Add into the bias and a per-channel Mul/Div into the weights', async () => {
    const build = () => {
      const b = new GraphBuilder();
      const x = b.input('x', f32([1, 2, 4, 4]));
      const w = b.constant(randomTensor([3, 2, 3, 3], 9), 'w');
      const conv = b.op1('onnx.Conv', [x, w]);
      const add = b.op1('onnx.Add', [b.constant(randomTensor([3, 1, 1], 10), 'c'), conv]);
      const mul = b.op1('onnx.Mul', [add, b.constant(randomTensor([1, 3, 1, 1], 12, 2, 0.5), 'm')]);
      b.output(b.op1('onnx.Div', [mul, b.constant(Tensor.scalar('float32', 4), 'd')]));
      return b.model();
    };
    const model = build();
    await expectSameOutputs(model, build, { x: randomTensor([1, 2, 4, 4], 6) });
    expect(opsOf(model)).toEqual(['Conv']);
  });

  it('folds a zero Pad on spatial dims into Conv pads', async () => {
    const build = () => {
      const b = new GraphBuilder();
      const x = b.input('x', f32([1, 1, 4, 4]));
      const pads = b.constant(Tensor.fromValues('int64', [8], [0n, 0n, 1n, 2n, 0n, 0n, 2n, 1n]), 'pads');
      const padded = b.op1('onnx.Pad', [x, pads]);
      b.output(b.op1('onnx.Conv', [padded, b.constant(randomTensor([2, 1, 3, 3], 13), 'w')], { pads: attrs.ints([1, 0, 0, 1]) }));
      return b.model();
    };
    const model = build();
    await expectSameOutputs(model, build, { x: randomTensor([1, 1, 4, 4], 14) }, fusePadIntoConvPass);
    expect(opsOf(model)).toEqual(['Conv']);
    expect(model.graph.firstNode!.attr('pads', 'ints')).toEqual([2, 2, 2, 2]);
  });

  it('turns 2-D MatMul + Add into Gemm, then folds BatchNormalization and a Transpose into it', async () => {
    const build = () => {
      const b = new GraphBuilder();
      const x = b.input('x', f32([5, 3]));
      const xt = b.op1('onnx.Transpose', [x], { perm: attrs.ints([1, 0]) });
      const mm = b.op1('onnx.MatMul', [xt, b.constant(randomTensor([5, 4], 15), 'B')], {}, { types: [f32([3, 4])] });
      const add = b.op1('onnx.Add', [mm, b.constant(randomTensor([4], 16), 'C')]);
      b.output(b.op1('onnx.BatchNormalization', [add, ...bnParams(b, 4, 31)]));
      return b.model();
    };
    const model = build();
    model.graph.firstNode!.output(0).type = f32([3, 5]);
    const reference = build();
    reference.graph.firstNode!.output(0).type = f32([3, 5]);
    const inputs = { x: randomTensor([5, 3], 17) };
    const before = evaluate(reference, inputs);
    await runPass(fusePass, model);
    expect(opsOf(model)).toEqual(['Gemm']);
    expect(model.graph.firstNode!.attr('transA', 'int')).toBe(1);
    expectClose(before[0]!, evaluate(model, inputs)[0]!);
  });

  it('leaves MatMul + Add alone when A is not known to be 2-D, and says why', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32(['B', 5, 3]));
    const mm = b.op1('onnx.MatMul', [x, b.constant(randomTensor([3, 4], 15), 'B')]);
    b.output(b.op1('onnx.Add', [mm, b.constant(randomTensor([4], 16), 'C')]));
    const model = b.model();
    const run = await runPass(fuseMatMulAddIntoGemmPass, model);
    expect(opsOf(model)).toEqual(['MatMul', 'Add']);
    expect(run.debug.join('\n')).toMatch(/2-D/);
  });

  it('declines BatchNormalization fusion when the Conv output has another user or a parameter is computed', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([1, 2, 4, 4]));
    const conv = b.op1('onnx.Conv', [x, b.constant(randomTensor([2, 2, 1, 1], 1), 'w')]);
    const bn = b.op1('onnx.BatchNormalization', [conv, ...bnParams(b, 2, 41)]);
    const conv2 = b.op1('onnx.Conv', [x, b.constant(randomTensor([2, 2, 1, 1], 2), 'w2')]);
    const [g, beta, mean, variance] = bnParams(b, 2, 51);
    const gamma = b.op1('onnx.Relu', [g!]);
    const bn2 = b.op1('onnx.BatchNormalization', [conv2, gamma, beta!, mean!, variance!]);
    b.output(bn, conv, bn2);
    const model = b.model();
    const run = await runPass(fuseBatchNormPass, model);
    expect(opsOf(model).filter((o) => o === 'BatchNormalization')).toHaveLength(2);
    const log = run.debug.join('\n');
    expect(log).toMatch(/other users/);
    expect(log).toMatch(/must all be constants/);
  });

  it('does not fold a zero Pad into MaxPool over a signed input (MaxPool ignores its padding)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([1, 1, 4, 4]));
    const pads = b.constant(Tensor.fromValues('int64', [8], [0n, 0n, 1n, 1n, 0n, 0n, 1n, 1n]), 'pads');
    b.output(b.op1('onnx.MaxPool', [b.op1('onnx.Pad', [x, pads])], { kernel_shape: attrs.ints([2, 2]) }));
    const model = b.model();
    const run = await runPass(fusePadIntoPoolPass, model);
    expect(opsOf(model)).toEqual(['Pad', 'MaxPool']);
    expect(run.debug.join('\n')).toMatch(/not known to be non-negative/);
    await runPass(fusePadIntoConvPass, model);
    expect(opsOf(model)).toEqual(['Pad', 'MaxPool']);
  });

  it('flips transB for a Transpose feeding Gemm B', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', f32([2, 3]));
    const w = b.input('w', f32([4, 3]));
    const wt = b.op1('onnx.Transpose', [w]);
    b.output(b.op1('onnx.Gemm', [x, wt]));
    const model = b.model();
    await runPass(fuseTransposeIntoGemmPass, model);
    expect(opsOf(model)).toEqual(['Gemm']);
    expect(model.graph.firstNode!.attr('transB', 'int')).toBe(1);
  });
});
