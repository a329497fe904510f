import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Model } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { evaluateAccuracy, loadDataset } from '@modelpass/runtime';
import { shuffledBatches, trainSteps } from '@modelpass/train';
import { EmbeddedBackend, roundSeed, sliceDataset, trainDataParallel } from '@modelpass/distributed';
import { FASHION_CNN } from './quantize-fixture.js';

const backend = new EmbeddedBackend();
const common = { dataset: 'fashion-mnist:train', samples: 256, batchSize: 64, lr: 0.005, momentum: 0.9, seed: 5 } as const;

function floatWeights(model: Model): Map<string, Float32Array> {
  return new Map(model.graph.constants.filter((v) => v.constant?.dtype === 'float32').map((v) => [v.name, v.constant!.data() as Float32Array]));
}

describe('data-parallel training (train-round jobs, weights averaged per round)', () => {
  it('one shard, one round is trainSteps on the same batches, weight for weight', async () => {
    const result = await trainDataParallel(backend, FASHION_CNN, { ...common, shards: 1, rounds: 1, checkpointFolder: mkdtempSync(join(tmpdir(), 'ckpt-')) });
    const model = readOnnx(FASHION_CNN);
    const seed = roundSeed(common.seed, 0, 0);
    const batches = shuffledBatches(loadDataset(common.dataset, { limit: common.samples }), { batchSize: 64, input: model.graph.inputs[0]!.name, sampleShape: [1, 28, 28], seed, epochs: 1 });
    const direct = await trainSteps(model, batches, { lr: common.lr, momentum: common.momentum, weightDecay: 0, seed });
    const expected = floatWeights(direct.model);
    const actual = floatWeights(result.model);
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, values] of expected) expect(Buffer.from(actual.get(name)!.buffer).equals(Buffer.from(values.buffer)), name).toBe(true);
    expect(result.rounds[0]!.meanLosses).toHaveLength(1);
  });

  // (The same seed giving the same checkpoint on two runs is checked in redis-workers.test.ts: embedded against BullMQ workers.)
  it('two shards over two rounds: each round\'s weights are the mean of the shards\' trainSteps', async () => {
    const runs = [await trainDataParallel(backend, FASHION_CNN, { ...common, shards: 2, rounds: 2, checkpointFolder: mkdtempSync(join(tmpdir(), 'ckpt-')) })];
    expect(runs[0]!.rounds.map((r) => r.meanLosses.length)).toEqual([2, 2]);
    expect(readFileSync(runs[0]!.rounds[1]!.checkpoint).equals(readFileSync(runs[0]!.rounds[0]!.checkpoint))).toBe(false);
    expect(runs[0]!.checkpoint).toBe(runs[0]!.rounds[1]!.checkpoint);
    // Round 1 recomputed by hand: each shard's trainSteps from the start, then the mean.
    const start = readOnnx(FASHION_CNN);
    const data = loadDataset(common.dataset, { limit: common.samples });
    const trained = [];
    for (const [shard, [from, to]] of [[0, 128], [128, 256]].entries()) {
      const seed = roundSeed(common.seed, 0, shard);
      const batches = shuffledBatches(sliceDataset(data, from!, to!), { batchSize: 64, input: start.graph.inputs[0]!.name, sampleShape: [1, 28, 28], seed, epochs: 1 });
      trained.push(floatWeights((await trainSteps(readOnnx(FASHION_CNN), batches, { lr: common.lr, momentum: common.momentum, weightDecay: 0, seed })).model));
    }
    const round1 = floatWeights(readOnnx(runs[0]!.rounds[0]!.checkpoint));
    for (const [name, values] of round1) {
      const mean = values.map((_, i) => (trained[0]!.get(name)![i]! + trained[1]!.get(name)![i]!) / 2);
      expect(Buffer.from(values.buffer).equals(Buffer.from(mean.buffer)), name).toBe(true);
    }
    // Still a working classifier (the fp32 fixture: 89.41% on the test set; chance is 10%).
    const accuracy = await evaluateAccuracy(runs[0]!.checkpoint, loadDataset('fashion-mnist:test', { limit: 1000 }), { limit: 1000 });
    expect(accuracy.accuracy).toBeGreaterThan(0.75);
  });

  it('a shard smaller than one batch is an error naming it', async () => {
    await expect(trainDataParallel(backend, FASHION_CNN, { ...common, samples: 100, shards: 2, rounds: 1, checkpointFolder: mkdtempSync(join(tmpdir(), 'ckpt-')) })).rejects.toThrow(/shard \[64, 100\) holds 36 samples, fewer than one batch of 64/);
  });
});
