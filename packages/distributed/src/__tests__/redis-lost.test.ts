/** A Redis server that goes away mid-run is an error naming it within seconds, not a wait until the job timeout. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { BullmqBackend, distributedStatisticsCollector } from '@modelpass/distributed';
import { quantizeCnn } from './quantize-fixture.js';
import { spawnWorker, startRedis, stopProcess } from './redis-fixture.js';

it('losing the Redis server mid-run fails the run, naming the server', async () => {
  const redis = await startRedis();
  const worker = spawnWorker(redis.url, 'lost', ['--lock-duration', '4000']);
  try {
    await worker.waitFor(/worker ready/);
    const shared = mkdtempSync(join(tmpdir(), 'shared-'));
    const backend = await BullmqBackend.connect({ redis: redis.url, queue: 'lost', sharedFolder: shared, jobTimeoutMs: 10 * 60_000 });
    const started = Date.now();
    const run = quantizeCnn('quantize-static{calibration=minmax dataset=fashion-mnist:train samples=1024}', distributedStatisticsCollector({ backend, shards: 8, sharedFolder: shared }));
    const failed = expect(run).rejects.toThrow(/lost the Redis server at redis:\/\/127\.0\.0\.1:\d+ while jobs were running/);
    await worker.waitFor(/calibrate-shard started/);
    await redis.stop();
    await failed;
    expect(Date.now() - started).toBeLessThan(60_000);
    await backend.close();
  } finally {
    await stopProcess(worker.child, 'SIGKILL');
    await redis.stop();
  }
});
