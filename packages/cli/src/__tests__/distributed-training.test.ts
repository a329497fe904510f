/**
 * `convert --redis` with `train{…}` in the pipeline: the training runs data-parallel on real
 * `modelpass worker` processes (real redis-server) and writes the checkpoints and weights the
 * embedded data-parallel run writes, also when a worker is SIGKILLed in the middle of a round.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { EmbeddedBackend, trainDataParallel } from '@modelpass/distributed';
import { startRedisWorkers, type RedisWorkers, type WorkerProcess } from './redis-workers-fixture.js';
import { repoRoot, runCli } from './run-cli.js';

const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
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

  it('gives the embedded run’s checkpoints and weights, with a worker SIGKILLed mid-round', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'train-redis-'));
    const checkpoints = join(folder, 'ckpt');
    const pipeline = `train{dataset=fashion-mnist:train samples=384 epochs=2 batch=64 lr=0.01 momentum=0.9 seed=7 checkpoint=${checkpoints}}`;
    const lengths = workers.map((w) => w.log.length);
    let victim: { index: number; job: string } | undefined;
    const watcher = setInterval(() => {
      if (victim) return;
      for (const [index, worker] of workers.entries()) {
        const match = /job (\S+) train-round started/.exec(worker.log.slice(lengths[index]));
        if (match) {
          victim = { index, job: match[1]! };
          worker.child.kill('SIGKILL');
          return;
        }
      }
    }, 20);
    const result = await runCli(['convert', cnn, '-o', join(folder, 'trained.onnx'), '--pipeline', pipeline, '--redis', url, '--queue', queue, '--shards', '3']);
    clearInterval(watcher);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/train: round 2 on bullmq/);
    expect(victim).toBeDefined();
    expect(workers[victim!.index]!.child.signalCode).toBe('SIGKILL');
    // Another worker finished the killed worker's job.
    expect(workers.some((w, i) => i !== victim!.index && new RegExp(`job ${victim!.job} train-round finished`).test(w.log))).toBe(true);

    const embedded = await trainDataParallel(new EmbeddedBackend(), cnn, {
      dataset: 'fashion-mnist:train', samples: 384, shards: 3, rounds: 2, batchSize: 64, lr: 0.01, momentum: 0.9, seed: 7, checkpointFolder: join(folder, 'embedded'),
    });
    expect(readFileSync(join(checkpoints, 'round-002.onnx')).equals(readFileSync(embedded.checkpoint))).toBe(true);
    const trained = floatWeights(readOnnx(join(folder, 'trained.onnx')));
    const expected = floatWeights(embedded.model);
    expect([...trained.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, bytes] of expected) expect(trained.get(name)!.equals(bytes), name).toBe(true);
    expect(floatWeights(readOnnx(cnn)).get([...expected.keys()][0]!)!.equals(expected.get([...expected.keys()][0]!)!)).toBe(false);
  });
});
