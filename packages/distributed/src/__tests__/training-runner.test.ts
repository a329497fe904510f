/**
 * The `train` pass under `distributedTrainingRunner`: a run resumed from its checkpoint folder ends
 * bit-identical to an uninterrupted one, another run's folder is refused, and the options rounds
 * cannot honour are refused by name. (Pass on BullMQ workers = `trainDataParallel` embedded: the
 * CLI's distributed-commands test.)
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeOnnx, readOnnx } from '@modelpass/onnx';
import { PassManager } from '@modelpass/pass-manager';
import { trainPasses } from '@modelpass/train';
import { EmbeddedBackend, defaultConvertEnvironment, distributedTrainingRunner, withTrainingRunner } from '@modelpass/distributed';
import { FASHION_CNN } from './quantize-fixture.js';

const backend = new EmbeddedBackend();

async function trainCnn(pipeline: string, sharedFolder?: string): Promise<Buffer> {
  const model = readOnnx(FASHION_CNN);
  const environment = defaultConvertEnvironment();
  environment.passes.register(trainPasses, '@modelpass/train');
  const runner = distributedTrainingRunner({ backend, shards: 2, ...(sharedFolder !== undefined ? { sharedFolder } : {}) });
  await withTrainingRunner(runner, () => new PassManager({ environment }).run(model, pipeline));
  return Buffer.from(encodeOnnx(model));
}

describe('train pass, data-parallel (withTrainingRunner)', () => {
  it('a resumed run ends bit-identical to an uninterrupted one', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'ckpt-'));
    const train = (epochs: number) => `train{dataset=fashion-mnist:train samples=128 epochs=${epochs} batch=64 lr=0.01 momentum=0.9 seed=3 checkpoint=${folder}}`;
    // An interrupted run: one epoch (round) done, its checkpoint in the folder.
    const first = await trainCnn(train(1));
    expect(readFileSync(join(folder, 'round-001.onnx')).length).toBeGreaterThan(0);
    const resumed = await trainCnn(train(2));
    const uninterrupted = await trainCnn(train(2).replace(folder, mkdtempSync(join(tmpdir(), 'ckpt-'))));
    expect(first.equals(uninterrupted)).toBe(false);
    expect(resumed.equals(uninterrupted)).toBe(true);
    // The folder now holds this run: another start model or setting there is refused, not overwritten.
    await expect(trainCnn(train(2).replace('lr=0.01', 'lr=0.02'))).rejects.toThrow(/holds another training run/);
    rmSync(folder, { recursive: true, force: true });
  });

  it('without checkpoint=, trains in a run folder of the shared folder and removes it at the end', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'shared-'));
    const pipeline = 'train{dataset=fashion-mnist:train samples=128 epochs=1 batch=64 lr=0.01 seed=3}';
    const trained = await trainCnn(pipeline, shared);
    expect(readdirSync(shared)).toEqual([]);
    expect(trained.equals(Buffer.from(encodeOnnx(readOnnx(FASHION_CNN))))).toBe(false);
    // A failing run leaves nothing behind either.
    await expect(trainCnn(pipeline.replace('fashion-mnist:train', join(shared, 'missing.npy')), shared)).rejects.toThrow(/missing\.npy/);
    expect(readdirSync(shared)).toEqual([]);
    rmSync(shared, { recursive: true, force: true });
  });

  it('refuses what rounds of SGD cannot mean yet, naming the options', async () => {
    await expect(trainCnn('train{dataset=fashion-mnist:train samples=128 optimizer=adamw schedule=cosine validation=0.1}')).rejects.toThrow(
      /train\{optimizer=adamw schedule=cosine validation=0\.1\} is not supported by data-parallel training on workers yet/,
    );
  });
});
