/**
 * The "done when": a real redis-server and 3 worker processes. Distributed calibration of
 * the Fashion-MNIST CNN gives the single-process quantized model byte for byte, distributed
 * evaluation the single-process accuracy, and a worker SIGKILLed mid-job changes neither (BullMQ
 * hands its stalled job to another worker once the short test lock expires).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateAccuracy, loadDataset } from '@modelpass/runtime';
import { BullmqBackend, EmbeddedBackend, distributedStatisticsCollector, evaluateDistributed, trainDataParallel, type CalibrationRunTiming } from '@modelpass/distributed';
import { FASHION_CNN, quantizeCnn } from './quantize-fixture.js';
import { spawnWorker, startRedis, stopProcess, type RedisServer, type WorkerProcess } from './redis-fixture.js';

const QUEUE = 'modelpass-test';
// Short locks so a killed worker's job comes back within seconds (production keeps BullMQ's 30 s).
const WORKER_FLAGS = ['--lock-duration', '4000', '--stalled-interval', '1000'];

describe('BullMQ workers on a real redis-server', () => {
  let redis: RedisServer;
  let workers: WorkerProcess[] = [];
  let backend: BullmqBackend;
  let shared: string;

  beforeAll(async () => {
    redis = await startRedis();
    workers = [0, 1, 2].map(() => spawnWorker(redis.url, QUEUE, WORKER_FLAGS));
    await Promise.all(workers.map((w) => w.waitFor(/worker ready/)));
    shared = mkdtempSync(join(tmpdir(), 'shared-'));
    backend = await BullmqBackend.connect({ redis: redis.url, queue: QUEUE, sharedFolder: shared });
  });

  afterAll(async () => {
    await backend?.close();
    await Promise.all(workers.map((w) => stopProcess(w.child)));
    await redis?.stop();
  });

  it('distributed calibration gives the single-process quantized model byte for byte', async () => {
    const pipeline = 'quantize-static{calibration=percentile dataset=fashion-mnist:train samples=512}';
    const single = await quantizeCnn(pipeline);
    const timings: CalibrationRunTiming[] = [];
    const distributed = await quantizeCnn(pipeline, distributedStatisticsCollector({ backend, shards: 4, sharedFolder: shared, onTiming: (t) => timings.push(t) }));
    expect(timings[0]!.shards).toHaveLength(4);
    // The shards ran in the worker processes, not here.
    const pids = new Set(timings[0]!.shards.map((s) => s.worker.split(':').pop()));
    expect(pids.has(String(process.pid))).toBe(false);
    expect(Buffer.from(distributed).equals(Buffer.from(single))).toBe(true);
  });

  it('distributed evaluation gives the single-process accuracy', async () => {
    const limit = 2048;
    const single = await evaluateAccuracy(FASHION_CNN, loadDataset('fashion-mnist:test', { limit }), { limit });
    const distributed = await evaluateDistributed(backend, FASHION_CNN, 'fashion-mnist:test', { limit, shards: 4 });
    expect(distributed.shards).toHaveLength(4);
    expect(distributed.correct).toBe(single.correct);
    expect(distributed.total).toBe(limit);
    expect(distributed.accuracy).toBe(single.accuracy);
    expect(distributed.perClass).toEqual(single.perClass.map((c) => ({ total: c.total, correct: c.correct })));
  });

  it('data-parallel training on the workers writes the checkpoint the embedded run writes', async () => {
    const options = { dataset: 'fashion-mnist:train', samples: 256, shards: 2, rounds: 1, batchSize: 64, lr: 0.02, momentum: 0.9, seed: 1 };
    const remote = await trainDataParallel(backend, FASHION_CNN, { ...options, checkpointFolder: mkdtempSync(join(shared, 'ckpt-')) });
    const local = await trainDataParallel(new EmbeddedBackend(), FASHION_CNN, { ...options, checkpointFolder: mkdtempSync(join(tmpdir(), 'ckpt-')) });
    expect(remote.rounds[0]!.shards.every((s) => !s.worker.endsWith(`:${process.pid}`))).toBe(true);
    expect(readFileSync(remote.checkpoint).equals(readFileSync(local.checkpoint))).toBe(true);
  });

  it('a worker killed with SIGKILL mid-job does not change the quantized model', async () => {
    const pipeline = 'quantize-static{calibration=entropy dataset=fashion-mnist:train samples=768}';
    const single = await quantizeCnn(pipeline);
    const lengths = workers.map((w) => w.log().length);
    let victim: { worker: WorkerProcess; job: string } | undefined;
    // Kill the first worker that starts a job of this run, as soon as it says so.
    const killing = Promise.race(
      workers.map(async (worker, index) => {
        const match = await worker.waitFor(/job (\S+) calibrate-shard started/, 120_000, lengths[index]).catch(() => undefined);
        if (match && !victim) {
          victim = { worker, job: match[1]! };
          worker.child.kill('SIGKILL');
        }
      }),
    );
    const distributed = await quantizeCnn(pipeline, distributedStatisticsCollector({ backend, shards: 6, sharedFolder: shared }));
    await killing;
    expect(victim).toBeDefined();
    expect(victim!.worker.child.signalCode).toBe('SIGKILL');
    expect(victim!.worker.log()).not.toMatch(new RegExp(`job ${victim!.job} calibrate-shard finished`));
    // Another worker ran the killed worker's job to the end.
    const others = workers.filter((w) => w !== victim!.worker);
    expect(others.some((w) => new RegExp(`job ${victim!.job} calibrate-shard finished`).test(w.log()))).toBe(true);
    expect(Buffer.from(distributed).equals(Buffer.from(single))).toBe(true);
  });
});
