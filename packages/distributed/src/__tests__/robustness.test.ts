/**
 * What a stranger hits: a queue name that no worker listens on (the error names the queues that do
 * have workers), a model path that does not exist on the worker's machine (a failed outcome naming
 * the path and the worker's host), Ctrl-C on a worker mid-job (it finishes the job, then exits 0),
 * and two batch runs into one output folder (the second is refused naming the first).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCH_LOCK_FILE, BullmqBackend, convertBatch, evaluateDistributed, lockOutputFolder } from '@modelpass/distributed';
import { FASHION_CNN } from './quantize-fixture.js';
import { spawnWorker, startRedis, stopProcess, type RedisServer, type WorkerProcess } from './redis-fixture.js';

describe('output folder lock (two batch runs into one folder)', () => {
  it('refuses a second run naming the first, takes over a dead run’s lock, and is gone after release', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'out-'));
    const lock = lockOutputFolder(folder);
    expect(() => lockOutputFolder(folder)).toThrow(new RegExp(`in use by another batch run \\(pid ${process.pid} on ${hostname()}`));
    lock.release();
    expect(existsSync(join(folder, BATCH_LOCK_FILE))).toBe(false);
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    writeFileSync(join(folder, BATCH_LOCK_FILE), JSON.stringify({ pid: dead.pid, host: hostname(), started: 'earlier' }));
    const taken = lockOutputFolder(folder);
    expect(JSON.parse(readFileSync(join(folder, BATCH_LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    taken.release();
    writeFileSync(join(folder, BATCH_LOCK_FILE), JSON.stringify({ pid: 1, host: 'another-machine', started: 'earlier' }));
    expect(() => lockOutputFolder(folder)).toThrow(/pid 1 on another-machine/);
  });
});

describe('workers: queue mismatch, missing paths, Ctrl-C', () => {
  let redis: RedisServer;
  let worker: WorkerProcess;

  beforeAll(async () => {
    redis = await startRedis();
    worker = spawnWorker(redis.url, 'alpha');
    await worker.waitFor(/worker ready/);
  });

  afterAll(async () => {
    await stopProcess(worker.child);
    await redis?.stop();
  });

  it('a queue nobody listens on fails naming the queues that have workers', async () => {
    const backend = await BullmqBackend.connect({ redis: redis.url, queue: 'beta', workerWaitMs: 1000 });
    try {
      await expect(evaluateDistributed(backend, FASHION_CNN, 'fashion-mnist:test', { limit: 10 })).rejects.toThrow(/no worker listens on queue 'beta' at redis:\/\/127\.0\.0\.1:\d+ \(workers listen on 'alpha': a --queue mismatch\?\)/);
    } finally {
      await backend.close();
    }
  });

  it('a model missing on the worker’s machine is a failed outcome naming the path and the worker', async () => {
    const backend = await BullmqBackend.connect({ redis: redis.url, queue: 'alpha' });
    try {
      const out = mkdtempSync(join(tmpdir(), 'out-'));
      const [outcome] = await convertBatch(backend, [{ input: '/nonexistent/zoo/model.onnx', output: join(out, 'model.onnx') }], 'simplify');
      expect(outcome!.ok).toBe(false);
      expect(outcome!.error).toMatch(new RegExp(`input '/nonexistent/zoo/model\\.onnx' does not exist on worker ${hostname()} \\(pid \\d+\\): models must be at the same path`));
    } finally {
      await backend.close();
    }
  });

  it('Ctrl-C (SIGINT) mid-job: the worker finishes the job, then exits 0', async () => {
    const backend = await BullmqBackend.connect({ redis: redis.url, queue: 'alpha' });
    try {
      const from = worker.log().length;
      const interrupted = worker.waitFor(/job (\S+) eval-shard started/, 60_000, from).then(() => worker.child.kill('SIGINT'));
      const result = await evaluateDistributed(backend, FASHION_CNN, 'fashion-mnist:test', { limit: 4000, shards: 1 });
      await interrupted;
      expect(result.total).toBe(4000);
      const code = await new Promise((r) => (worker.child.exitCode !== null ? r(worker.child.exitCode) : worker.child.once('exit', (c) => r(c))));
      expect(code).toBe(0);
      expect(worker.log().slice(from)).toMatch(/eval-shard finished/);
    } finally {
      await backend.close();
    }
  });
});
