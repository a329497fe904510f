/**
 * The `distillation` loss: its value equals α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1−α)·CE(s, y) (+ β·mse
 * per matched feature) computed by hand, and its gradients equal central finite differences in float64.
 */
import { attrs, GraphBuilder, Tensor } from '@modelpass/ir';
import { runReference } from '@modelpass/ops';
import { buildGradientGraph, lossBuilders } from '@modelpass/train';
import { describe, expect, it } from 'vitest';
import { f64, forwardModel, gradCheck, randomTensor, seeded } from './gradcheck.js';

const rng = seeded(11);
const x = randomTensor(rng, [4, 5]);
const w = randomTensor(rng, [5, 3]);
const teacher = randomTensor(rng, [4, 3], 3);
const labels = Tensor.fromValues('int64', [4], [0n, 2n, 1n, 2n]);
const linear = (b: GraphBuilder) => b.op1('onnx.MatMul', [b.input('x', f64([4, 5])), b.constant(w, 'w')]);

function softmax(row: number[], temperature: number): number[] {
  const scaled = row.map((v) => v / temperature);
  const max = Math.max(...scaled);
  const e = scaled.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

describe('distillation loss', () => {
  it('is α·T²·KL + (1−α)·CE, computed by hand', () => {
    const [temperature, alpha] = [4, 0.7];
    const model = forwardModel({ build: linear, feeds: { x }, wrt: [] });
    const training = buildGradientGraph(model, { loss: { kind: 'distillation', temperature, alpha }, wrt: ['w'] });
    expect(training.lossInputs).toEqual(['teacher_logits', 'labels']);
    const logitsName = training.model.graph.outputs[1]!.name;
    const out = runReference(training.model, { x, teacher_logits: teacher, labels }, { outputs: [training.loss, logitsName] });
    const logits = (out.get(logitsName) as Tensor).toNumbers();
    const t = teacher.toNumbers();
    let kl = 0;
    let ce = 0;
    for (let n = 0; n < 4; n++) {
      const s = logits.slice(n * 3, n * 3 + 3);
      const p = softmax(t.slice(n * 3, n * 3 + 3), temperature);
      const q = softmax(s, temperature);
      kl += p.reduce((sum, pi, i) => sum + pi * Math.log(pi / q[i]!), 0);
      ce -= Math.log(softmax(s, 1)[Number(labels.toNumbers()[n])]!);
    }
    const expected = alpha * temperature * temperature * (kl / 4) + (1 - alpha) * (ce / 4);
    expect((out.get(training.loss) as Tensor).toNumbers()[0]).toBeCloseTo(expected, 10);
  });

  it('has the gradients of central differences, with and without a matched feature', () => {
    const plain = gradCheck({ build: linear, feeds: { x }, wrt: ['w', 'x'], loss: { kind: 'distillation', temperature: 2, alpha: 0.4 }, lossFeeds: { teacher_logits: teacher, labels } });
    expect(plain.checked).toBe(35);
    expect(plain.maxRelError).toBeLessThan(1e-5);
    const withFeature = gradCheck({
      build: (b) => {
        const hidden = b.op1('onnx.Tanh', [b.op1('onnx.MatMul', [b.input('x', f64([4, 5])), b.constant(w, 'w')])], {}, { outputs: ['hidden'] });
        return b.op1('onnx.Gemm', [hidden, b.constant(randomTensor(rng, [3, 3]), 'w2')], { transB: attrs.int(1) });
      },
      feeds: { x }, wrt: ['w', 'w2'],
      loss: { kind: 'distillation', features: [{ student: 'hidden', target: 'hint' }], featureWeight: 0.5 },
      lossFeeds: { teacher_logits: teacher, labels, hint: randomTensor(rng, [4, 3]) },
    });
    expect(withFeature.maxRelError).toBeLessThan(1e-5);
  });

  it('names a bad alpha and a missing feature tensor', () => {
    const model = forwardModel({ build: linear, feeds: { x }, wrt: [] });
    expect(() => buildGradientGraph(model, { loss: { kind: 'distillation', alpha: 1.5 } })).toThrow(/option 'alpha' is 1.5/);
    expect(() => buildGradientGraph(model, { loss: { kind: 'distillation', features: [{ student: 'nope', target: 'hint' }] } })).toThrow(/student's tensor 'nope'/);
    expect(lossBuilders.has('distillation')).toBe(true);
  });
});
