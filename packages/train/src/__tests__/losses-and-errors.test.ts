/** Losses differentiated through the same rules (finite differences), the graph's contract, and errors for what autodiff cannot do. */
import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType } from '@modelpass/ir';
import { runReference } from '@modelpass/ops';
import { buildGradientGraph, createGradientRuleRegistry, defineGradientRule, lossBuilders } from '@modelpass/train';
import { describe, expect, it } from 'vitest';
import { f64, gradCheck, randomTensor, seeded } from './gradcheck.js';

const logitsModel = (rng: () => number) => (g: GraphBuilder) => g.op1('onnx.Gemm', [g.input('x', f64([3, 4])), g.constant(randomTensor(rng, [5, 4]), 'w')], { transB: attrs.int(1) });

describe('losses', () => {
  it('has cross-entropy, mse, kl and distillation', () => {
    expect([...lossBuilders.keys()].sort()).toEqual(['cross-entropy', 'distillation', 'kl', 'mse']);
  });

  it('cross-entropy equals −mean log softmax[label] and its gradients match finite differences', () => {
    const rng = seeded(1);
    const labels = Tensor.fromValues('int64', [3], [4n, 0n, 2n]);
    const result = gradCheck({ build: logitsModel(rng), feeds: { x: randomTensor(rng, [3, 4]) }, loss: { kind: 'cross-entropy' }, lossFeeds: { labels }, wrt: ['x', 'w'] });
    expect(result.maxRelError).toBeLessThan(1e-5);

    const g = new GraphBuilder();
    g.output(g.input('logits', f64([2, 3])));
    const training = buildGradientGraph(g.model({ onnx: 17 }), { loss: { kind: 'cross-entropy' }, wrt: ['logits'] });
    const logits = [1, 2, 3, -1, 0, 4];
    const out = runReference(training.model, { logits: Tensor.fromValues('float64', [2, 3], logits), labels: Tensor.fromValues('int64', [2], [2n, 0n]) });
    const lse = (row: number[]) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
    const expected = -((3 - lse([1, 2, 3])) + (-1 - lse([-1, 0, 4]))) / 2;
    expect((out.get('loss') as Tensor).toNumbers()[0]).toBeCloseTo(expected, 12);
    expect(training.lossInputs).toEqual(['labels']);
  });

  it('kl with temperature matches finite differences and is zero when student equals teacher', () => {
    const rng = seeded(2);
    const x = randomTensor(rng, [3, 4]);
    const result = gradCheck({ build: logitsModel(rng), feeds: { x }, loss: { kind: 'kl', temperature: 4 }, lossFeeds: { teacher_logits: randomTensor(rng, [3, 5], 3) }, wrt: ['x', 'w'] });
    expect(result.maxRelError).toBeLessThan(1e-5);
    const g = new GraphBuilder();
    g.output(g.input('s', f64([2, 3])));
    const training = buildGradientGraph(g.model({ onnx: 17 }), { loss: { kind: 'kl', temperature: 2 }, wrt: ['s'] });
    const same = randomTensor(rng, [2, 3]);
    const out = runReference(training.model, { s: same, teacher_logits: same });
    expect(Math.abs((out.get('loss') as Tensor).toNumbers()[0]!)).toBeLessThan(1e-12);
  });
});

describe('the training graph', () => {
  it('outputs loss, the model outputs, and grad.<initializer> for trainable initializers only (not BN statistics, not scalars)', () => {
    const rng = seeded(3);
    const g = new GraphBuilder();
    const x = g.input('x', f64(['N', 2, 3, 3]));
    const conv = g.op1('onnx.Conv', [x, g.constant(randomTensor(rng, [2, 2, 1, 1]), 'w')]);
    const bn = g.op1('onnx.BatchNormalization', [conv, g.constant(randomTensor(rng, [2]), 'scale'), g.constant(randomTensor(rng, [2]), 'bias'), g.constant(randomTensor(rng, [2]), 'mean'), g.constant(randomTensor(rng, [2], 0.1, 1), 'var')]);
    const scaled = g.op1('onnx.Mul', [bn, g.constant(Tensor.scalar('float64', 2), 'two')]);
    g.output(g.op1('onnx.Flatten', [scaled], {}, { outputs: ['logits'] }));
    const training = buildGradientGraph(g.model({ onnx: 13 }), { loss: { kind: 'mse' } });
    expect([...training.gradients.keys()]).toEqual(['w', 'scale', 'bias']);
    expect(training.model.graph.outputs.map((v) => v.name)).toEqual(['loss', 'logits', 'grad.w', 'grad.scale', 'grad.bias']);
    expect(training.model.opset('onnx')).toBe(16);
    expect(training.model.graph.outputs[2]!.type).toEqual(tensorType('float64', [2, 2, 1, 1]));
  });

  it('names the op and node that has no gradient rule, and lists the differentiable ops', () => {
    const g = new GraphBuilder();
    const y = g.op1('onnx.Sin', [g.input('x', f64([2]))], {}, { name: 'wave' });
    g.output(y);
    expect(() => buildGradientGraph(g.model({ onnx: 17 }), { loss: { kind: 'mse' }, wrt: ['x'] })).toThrow(/no gradient rule for onnx\.Sin \(node 'wave'\)/);
  });

  it('takes extra rules from a registry', () => {
    const rules = createGradientRuleRegistry().register(defineGradientRule({
      op: 'onnx.Sin',
      gradient: ({ ctx, node, outputGrads }) => [ctx.op('Mul', [outputGrads[0]!, ctx.op('Cos', [node.input(0)])])],
    }));
    const g = new GraphBuilder();
    g.output(g.op1('onnx.Sin', [g.input('x', f64([3]))]));
    const training = buildGradientGraph(g.model({ onnx: 17 }), { loss: { kind: 'mse' }, wrt: ['x'], rules });
    const out = runReference(training.model, { x: Tensor.fromValues('float64', [3], [0, 1, 2]), target: Tensor.fromValues('float64', [3], [0, 0, 0]) });
    const grad = (out.get('grad.x') as Tensor).toNumbers();
    [0, 1, 2].forEach((v, i) => expect(grad[i]).toBeCloseTo((2 / 3) * Math.sin(v) * Math.cos(v), 12));
  });

  it('refuses bad requests with what was expected', () => {
    const g = new GraphBuilder();
    g.output(g.op1('onnx.Relu', [g.input('x', f64([2]))]));
    const model = g.model({ onnx: 17 });
    expect(() => buildGradientGraph(model, { loss: { kind: 'mse' }, wrt: ['nope'] })).toThrow(/'nope': it is not an initializer or graph input/);
    expect(() => buildGradientGraph(model, { loss: { kind: 'mse', output: 'missing' } })).toThrow(/reads output 'missing'/);
    expect(() => buildGradientGraph(model, { loss: { kind: 'hinge' } as never })).toThrow(/unknown loss 'hinge'/);
    expect(() => buildGradientGraph(g.model({ onnx: 11 }), { loss: { kind: 'mse' } })).toThrow(/opset 13 or newer/);
    expect(() => buildGradientGraph(model, { loss: { kind: 'cross-entropy' } })).toThrow(/logits of shape \[N, classes\]/);
  });

  it('refuses training-mode BatchNormalization and Dropout with the node named', () => {
    const g = new GraphBuilder();
    const x = g.input('x', f64([2, 2, 1, 1]));
    const c = (name: string) => g.constant(Tensor.fromValues('float64', [2], [1, 1]), name);
    const [y] = g.op('onnx.BatchNormalization', [x, c('s'), c('b'), c('m'), c('v')], { training_mode: attrs.int(1) }, { outputs: 3, name: 'bn' });
    g.output(y!);
    expect(() => buildGradientGraph(g.model({ onnx: 15 }), { loss: { kind: 'mse' }, wrt: ['x'] })).toThrow(/BatchNormalization 'bn'.*training-mode/);

    const d = new GraphBuilder();
    const [dropped] = d.op('onnx.Dropout', [d.input('x', f64([4])), d.constant(Tensor.scalar('float64', 0.5), 'ratio'), d.constant(Tensor.scalar('bool', true), 'training')], {}, { outputs: 1, name: 'drop' });
    d.output(dropped!);
    let error: unknown;
    try { buildGradientGraph(d.model({ onnx: 13 }), { loss: { kind: 'mse' }, wrt: ['x'] }); } catch (caught) { error = caught; }
    expect(error).toBeInstanceOf(ModelpassError);
    expect(String((error as Error).message)).toMatch(/Dropout 'drop'.*needs buildGradientGraph's dropout: 'train'/);
  });
});
