/**
 * The SGD step loop on real data: the Fashion-MNIST MLP fixture, re-initialized with seeded random
 * weights, trained for 80 steps of 64 training images in ONNX Runtime; the loss falls and the
 * trained model (evaluated by the runtime on 1,000 test images) is far above chance.
 */
import { Tensor, type Model } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { datasetBatches, evaluateAccuracy, loadFashionMnist } from '@modelpass/runtime';
import { trainSteps, trainableInitializers, type TrainBatch } from '@modelpass/train';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { seeded } from './gradcheck.js';

const mlpPath = fileURLToPath(new URL('../../../../fixtures/models/fashion-mlp/model.onnx', import.meta.url));

function reinitialize(model: Model, seed: number): void {
  const rng = seeded(seed);
  for (const name of trainableInitializers(model)) {
    const value = model.graph.getValue(name)!;
    const tensor = value.constant!;
    const fanIn = tensor.rank === 2 ? tensor.shape[1]! : 64;
    const bound = 1 / Math.sqrt(fanIn);
    value.setConstant(Tensor.fromValues('float32', tensor.shape, Float32Array.from({ length: tensor.size }, () => bound * (2 * rng() - 1))));
  }
}

function* trainBatches(count: number, batchSize: number): Generator<TrainBatch> {
  const train = loadFashionMnist({ split: 'train', limit: count * batchSize });
  for (const batch of datasetBatches(train, { batchSize, sampleShape: [784] })) {
    yield { inputs: { input: batch.input }, lossInputs: { labels: Tensor.fromValues('int64', [batch.labels.length], Array.from(batch.labels, BigInt)) } };
  }
}

describe('trainSteps', () => {
  it('trains the re-initialized Fashion-MNIST MLP: loss falls, test accuracy far above chance', async () => {
    const model = await readOnnx(mlpPath);
    reinitialize(model, 7);
    const before = model.graph.getValue(trainableInitializers(model)[0]!)!.constant!.toNumbers().slice(0, 5);
    const seen: number[] = [];
    const { model: trained, losses } = await trainSteps(model, trainBatches(80, 64), { lr: 0.05, momentum: 0.9, onStep: (_, loss) => seen.push(loss) });
    expect(losses.length).toBe(80);
    expect(seen).toEqual(losses);
    const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(0, 5))).toBeGreaterThan(2);
    expect(mean(losses.slice(-10))).toBeLessThan(0.5 * mean(losses.slice(0, 5)));
    // the input model is untouched; the returned copy carries the trained weights
    expect(model.graph.getValue(trainableInitializers(model)[0]!)!.constant!.toNumbers().slice(0, 5)).toEqual(before);
    const { accuracy } = await evaluateAccuracy(trained, loadFashionMnist({ split: 'test', limit: 1000 }), { batchSize: 500 });
    const { accuracy: untrained } = await evaluateAccuracy(model, loadFashionMnist({ split: 'test', limit: 1000 }), { batchSize: 500 });
    expect(untrained).toBeLessThan(0.3);
    expect(accuracy).toBeGreaterThan(0.65);
  });

  it('fine-tunes the CNN with batch statistics: running statistics move, accuracy stays', async () => {
    const cnnPath = fileURLToPath(new URL('../../../../fixtures/models/fashion-cnn/model.onnx', import.meta.url));
    const model = await readOnnx(cnnPath);
    const batches = function* () {
      for (const batch of trainBatches(10, 64)) yield { inputs: { input: batch.inputs.input!.reshape([64, 1, 28, 28]) }, lossInputs: batch.lossInputs };
    };
    const { model: tuned, losses } = await trainSteps(model, batches(), { lr: 0.01, momentum: 0.9, batchNormalization: 'batch-statistics' });
    expect(losses).toHaveLength(10);
    const bn = [...model.graph.nodesOf('onnx.BatchNormalization')][0]!;
    const before = bn.input(3).constant!.toNumbers();
    const after = tuned.graph.getValue(bn.input(3).name)!.constant!.toNumbers();
    expect(after).not.toEqual(before);
    expect(after.every(Number.isFinite)).toBe(true);
    const test = loadFashionMnist({ split: 'test', limit: 500 });
    const { accuracy } = await evaluateAccuracy(tuned, test, { batchSize: 500 });
    const { accuracy: original } = await evaluateAccuracy(model, test, { batchSize: 500 });
    expect(accuracy).toBeGreaterThan(original - 0.03);
  });

  it('refuses bad options with the option named', async () => {
    const model = await readOnnx(mlpPath);
    await expect(trainSteps(model, [], { lr: 0 })).rejects.toThrow(/option 'lr' is 0/);
    await expect(trainSteps(model, [], { lr: 0.1, momentum: 1 })).rejects.toThrow(/option 'momentum'/);
  });
});
