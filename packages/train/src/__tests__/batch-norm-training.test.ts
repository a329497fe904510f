/**
 * Training-mode BatchNormalization (batch statistics, written out in standard ops): the CNN and
 * ResNet fixtures' gradients and updated running statistics, run in ONNX Runtime, against PyTorch's
 * `F.batch_norm(training=True)` on the same weights and batch; plus finite differences on a tiny net.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attrs, Tensor } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { loadTestDataSet, readNpy, runOrt } from '@modelpass/runtime';
import { buildGradientGraph } from '@modelpass/train';
import { beforeAll, describe, expect, it } from 'vitest';
import { f64, gradCheck, randomTensor, seeded } from './gradcheck.js';
import { fixtureFolder, torchReference } from './torch-reference.js';

const MODELS = ['fashion-cnn', 'fashion-resnet'];
const labels = Tensor.fromValues('int64', [8], [9n, 2n, 1n, 1n, 6n, 1n, 4n, 6n]);
let work = '';

function relativeError(actual: readonly number[], expected: readonly number[]): number {
  const scale = Math.max(...expected.map(Math.abs));
  return Math.max(...expected.map((e, i) => Math.abs(e - actual[i]!))) / scale;
}

describe('batch statistics', () => {
  beforeAll(async () => {
    work = await torchReference(MODELS, labels, 'train-bn-', { TORCH_BN_TRAINING: '1' });
  });

  for (const name of MODELS) {
    it(`${name}: gradients and running statistics equal torch's training mode within 1e-4`, async () => {
      const folder = fixtureFolder(name);
      const model = await readOnnx(join(folder, 'model.onnx'));
      const training = buildGradientGraph(model, { loss: { kind: 'cross-entropy' }, batchNormalization: 'batch-statistics' });
      // ORT's inference build has no training-mode kernel: only inference-mode nodes (fed the batch statistics) remain
      const remaining = [...training.model.graph.nodesOf('onnx.BatchNormalization')];
      expect(remaining.filter((n) => n.attr('training_mode', 'int', 0) !== 0 || n.outputs.length > 1)).toEqual([]);
      const data = await loadTestDataSet(join(folder, 'test_data_set_0'), model);
      const outputs = await runOrt(training.model, { ...Object.fromEntries(data.inputs), labels });
      const names = JSON.parse(readFileSync(join(work, name, 'names.json'), 'utf8')) as Record<string, string>;
      const torchLoss = readNpy(join(work, name, 'loss.npy')).toNumbers()[0]!;
      expect(Math.abs(outputs.get('loss')!.toNumbers()[0]! - torchLoss) / torchLoss).toBeLessThan(1e-5);
      const torchGrads = Object.entries(names).map(([index, param]) => [param, readNpy(join(work, name, `${index}.npy`)).toNumbers()] as const);
      const largest = Math.max(...torchGrads.flatMap(([, g]) => g.map(Math.abs)));
      for (const [param, expected] of torchGrads) {
        const actual = outputs.get(training.gradients.get(param)!)!.toNumbers();
        if (Math.max(...expected.map(Math.abs)) < 1e-6 * largest) {
          // a bias right before a batch-statistics BatchNormalization: its gradient is exactly zero
          // in exact arithmetic (the batch mean cancels it); float32 leaves only rounding noise
          expect(Math.max(...actual.map(Math.abs)), `grad.${param} (zero)`).toBeLessThan(1e-4 * largest);
        } else {
          expect(relativeError(actual, expected), `grad.${param}`).toBeLessThan(1e-4);
        }
      }
      expect(training.runningStatistics.size).toBe(2 * [...model.graph.nodesOf('onnx.BatchNormalization')].length);
      for (const [statistic, output] of training.runningStatistics) {
        const expected = readNpy(join(work, name, `running.${statistic}.npy`)).toNumbers();
        expect(relativeError(outputs.get(output)!.toNumbers(), expected), `running.${statistic}`).toBeLessThan(1e-4);
      }
    });
  }

  it('matches finite differences through the batch statistics', () => {
    const rng = seeded(8);
    const result = gradCheck({
      build: (g) => g.op1('onnx.BatchNormalization', [
        g.input('x', f64([3, 2, 2, 2])), g.input('scale', f64([2])), g.input('bias', f64([2])),
        g.constant(randomTensor(rng, [2]), 'mean'), g.constant(randomTensor(rng, [2], 0.5, 1), 'var'),
      ], { epsilon: attrs.float(1e-3) }),
      feeds: { x: randomTensor(rng, [3, 2, 2, 2]), scale: randomTensor(rng, [2]), bias: randomTensor(rng, [2]) },
      lossFeeds: { target: randomTensor(rng, [3, 2, 2, 2]) }, wrt: ['x', 'scale', 'bias'],
      batchNormalization: 'batch-statistics',
    });
    expect(result.maxRelError).toBeLessThan(1e-5);
  });

  it('matches finite differences for [N, C] and 3-D inputs, after a Conv, and with only the scale trained', () => {
    const rng = seeded(12);
    const batchNorm = (g: Parameters<Parameters<typeof gradCheck>[0]['build']>[0], x: ReturnType<typeof g.input>, channels: number) => g.op1('onnx.BatchNormalization', [
      x, g.input('scale', f64([channels])), g.input('bias', f64([channels])),
      g.constant(randomTensor(rng, [channels]), 'mean'), g.constant(randomTensor(rng, [channels], 0.5, 1), 'var'),
    ]);
    for (const shape of [[5, 3], [2, 2, 3, 2, 2]]) {
      const result = gradCheck({
        build: (g) => g.op1('onnx.Tanh', [batchNorm(g, g.input('x', f64(shape)), shape[1]!)]),
        feeds: { x: randomTensor(rng, shape), scale: randomTensor(rng, [shape[1]!]), bias: randomTensor(rng, [shape[1]!]) },
        lossFeeds: { target: randomTensor(rng, shape) }, wrt: ['x', 'scale', 'bias'], batchNormalization: 'batch-statistics',
      });
      expect(result.maxRelError, `[${shape.join(',')}]`).toBeLessThan(1e-5);
    }
    const afterConv = gradCheck({
      build: (g) => batchNorm(g, g.op1('onnx.Conv', [g.input('x', f64([3, 2, 4, 4])), g.input('w', f64([3, 2, 3, 3]))]), 3),
      feeds: { x: randomTensor(rng, [3, 2, 4, 4]), w: randomTensor(rng, [3, 2, 3, 3]), scale: randomTensor(rng, [3]), bias: randomTensor(rng, [3]) },
      lossFeeds: { target: randomTensor(rng, [3, 3, 2, 2]) }, wrt: ['w', 'scale'], batchNormalization: 'batch-statistics',
    });
    expect(afterConv.maxRelError).toBeLessThan(1e-5);
  });
});
