/**
 * `convert --redis` with `train{…}` or `distill{…}` in the pipeline: the training runs data-parallel
 * on real `modelpass worker` processes (real redis-server; a distillation's teacher runs on the
 * workers, read from its path) and writes the checkpoints and weights the embedded data-parallel run
 * writes, also when a worker is SIGKILLed in the middle of a round.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { PassManager } from '@modelpass/pass-manager';
import { distillPasses } from '@modelpass/train';
import { EmbeddedBackend, defaultConvertEnvironment, distributedTrainingRunner, trainDataParallel, withTrainingRunner } from '@modelpass/distributed';
import { startRedisWorkers, type RedisWorkers, type WorkerProcess } from './redis-workers-fixture.js';
import { repoRoot, runCli } from './run-cli.js';

const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
const mlp = join(repoRoot, 'fixtures/models/fashion-mlp/model.onnx');
const queue = 'cli-train-test';

function floatWeights(model: Model): Map<string, Buffer> {
  return new Map(model.graph.constants.filter((v) => v.constant?.dtype === 'float32').map((v) => [v.name, Buffer.from(v.constant!.bytes())]));
}

describe('convert --redis with train{}: data-parallel on modelpass workers', () => {
  let cluster: RedisWorkers | undefined;
  let url = '';
  let workers: WorkerProcess[] = [];

  beforeAll(async () => {
    // Short locks so a killed worker's job comes back within seconds (production keeps 30 s).
    cluster = await startRedisWorkers(3, queue, ['--lock-duration', '4000', '--stalled-interval', '1000']);
    ({ url, workers } = cluster);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  /** Runs `convert --redis` with `pipeline`, SIGKILLing the first live worker that starts a train-round job; checks another finished it. */
  async function convertKillingAWorker(pipeline: string, output: string): Promise<void> {
    const lengths = workers.map((w) => w.log.length);
    let victim: { index: number; job: string } | undefined;
    const watcher = setInterval(() => {
      if (victim) return;
      for (const [index, worker] of workers.entries()) {
        if (worker.child.signalCode !== null) continue;
        const match = /job (\S+) train-round started/.exec(worker.log.slice(lengths[index]));
        if (match) {
          victim = { index, job: match[1]! };
          worker.child.kill('SIGKILL');
          return;
        }
      }
    }, 20);
    const result = await runCli(['convert', cnn, '-o', output, '--pipeline', pipeline, '--redis', url, '--queue', queue, '--shards', '3']);
    clearInterval(watcher);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`${pipeline.slice(0, pipeline.indexOf('{'))}: round 2 on bullmq`));
    expect(victim).toBeDefined();
    expect(workers[victim!.index]!.child.signalCode).toBe('SIGKILL');
    // Another worker finished the killed worker's job.
    expect(workers.some((w, i) => i !== victim!.index && new RegExp(`job ${victim!.job} train-round finished`).test(w.log))).toBe(true);
  }

  it('gives the embedded run’s checkpoints and weights, with a worker SIGKILLed mid-round', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'train-redis-'));
    const checkpoints = join(folder, 'ckpt');
    await convertKillingAWorker(`train{dataset=fashion-mnist:train samples=384 epochs=2 batch=64 lr=0.01 momentum=0.9 seed=7 checkpoint=${checkpoints}}`, join(folder, 'trained.onnx'));

    const embedded = await trainDataParallel(new EmbeddedBackend(), cnn, {
      dataset: 'fashion-mnist:train', samples: 384, shards: 3, rounds: 2, batchSize: 64, lr: 0.01, momentum: 0.9, seed: 7, checkpointFolder: join(folder, 'embedded'),
      batchNormalization: 'batch-statistics', dropout: 'train', // train{}'s defaults
    });
    expect(readFileSync(join(checkpoints, 'round-002.onnx')).equals(readFileSync(embedded.checkpoint))).toBe(true);
    const trained = floatWeights(readOnnx(join(folder, 'trained.onnx')));
    const expected = floatWeights(embedded.model);
    expect([...trained.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, bytes] of expected) expect(trained.get(name)!.equals(bytes), name).toBe(true);
    expect(floatWeights(readOnnx(cnn)).get([...expected.keys()][0]!)!.equals(expected.get([...expected.keys()][0]!)!)).toBe(false);
  });

  it('distill{…} with a projected feature: the embedded run’s checkpoints and weights, with a worker SIGKILLed mid-round', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'distill-redis-'));
    const distill = (checkpoint: string) =>
      `distill{teacher=${mlp} dataset=fashion-mnist:train samples=384 epochs=2 batch=64 lr=0.01 seed=7 features=[/Relu_output_0:/Relu_2_output_0] feature-weight=0.1 checkpoint=${checkpoint}}`;
    await convertKillingAWorker(distill(join(folder, 'ckpt')), join(folder, 'distilled.onnx'));

    const embedded = readOnnx(cnn);
    const environment = defaultConvertEnvironment();
    environment.passes.register(distillPasses, '@modelpass/train');
    await withTrainingRunner(distributedTrainingRunner({ backend: new EmbeddedBackend(), shards: 3 }), () => new PassManager({ environment }).run(embedded, distill(join(folder, 'embedded'))));
    expect(readFileSync(join(folder, 'ckpt', 'round-002.onnx')).equals(readFileSync(join(folder, 'embedded', 'round-002.onnx')))).toBe(true);
    const distilled = readOnnx(join(folder, 'distilled.onnx'));
    expect(distilled.graph.nodeList().some((node) => node.name === 'projection_0')).toBe(false);
    const [actual, expected] = [floatWeights(distilled), floatWeights(embedded)];
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, bytes] of expected) expect(actual.get(name)!.equals(bytes), name).toBe(true);
    expect([...floatWeights(readOnnx(cnn))].some(([name, bytes]) => !bytes.equals(actual.get(name)!))).toBe(true);
  });
});
