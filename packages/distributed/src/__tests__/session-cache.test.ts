/**
 * Sessions kept between jobs: shards of one model open it once (calibration and evaluation), a
 * rewritten file is a new session, an evicted session in use closes only when its job ends; and
 * shards that seek (a NumPy dataset) still give the single-process model byte for byte.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor } from '@modelpass/ir';
import { loadDataset, writeNpy } from '@modelpass/runtime';
import { EmbeddedBackend, SessionCache, distributedStatisticsCollector, evaluateDistributed, workerSessionStats } from '@modelpass/distributed';
import { FASHION_CNN, quantizeCnn } from './quantize-fixture.js';

const work = mkdtempSync(join(tmpdir(), 'modelpass-session-cache-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('SessionCache', () => {
  it('reuses a file’s entry until the file changes, and disposes an evicted entry once its user is done', async () => {
    const disposed: string[] = [];
    const cache = new SessionCache<string>(1, (value) => void disposed.push(value));
    const file = join(work, 'a.bin');
    writeFileSync(file, 'one');
    let opens = 0;
    const open = (name: string) => async () => `${name}#${++opens}`;
    expect(await cache.use(SessionCache.fileKey(file), open('a'), async (v) => v)).toBe('a#1');
    expect(await cache.use(SessionCache.fileKey(file), open('a'), async (v) => v)).toBe('a#1');
    writeFileSync(file, 'two!');
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(await cache.use(SessionCache.fileKey(file), open('a'), async (v) => v)).toBe('a#2');
    expect(disposed).toEqual(['a#1']);
    let release!: () => void;
    const held = cache.use('held', open('h'), (v) => new Promise<string>((done) => (release = () => done(v))));
    await new Promise((r) => setTimeout(r, 10));
    expect(disposed).toEqual(['a#1', 'a#2']);
    await cache.use('other', open('o'), async (v) => v);
    expect(disposed).toEqual(['a#1', 'a#2']);
    release();
    expect(await held).toBe('h#3');
    expect(disposed).toEqual(['a#1', 'a#2', 'h#3']);
    expect(cache.stats).toEqual({ opened: 4, reused: 1, cached: 1 });
    await cache.clear();
    expect(disposed).toEqual(['a#1', 'a#2', 'h#3', 'o#4']);
  });
});

describe('sessions between shards (embedded backend)', () => {
  it('calibration shards of a NumPy dataset seek to their start, open one session and give the single-process bytes', async () => {
    const folder = join(work, 'npy');
    mkdirSync(folder);
    const data = loadDataset('fashion-mnist:train', { limit: 256 });
    writeNpy(data.samples, join(folder, 'x.npy'));
    writeNpy(Tensor.fromValues('int32', [data.size], Int32Array.from(data.labels)), join(folder, 'y.npy'));
    const pipeline = `quantize-static{calibration=minmax dataset=npy:${folder} samples=256}`;
    const backend = new EmbeddedBackend();
    const before = workerSessionStats().calibration;
    const sharded = await quantizeCnn(pipeline, distributedStatisticsCollector({ backend, shards: 4 }));
    const after = workerSessionStats().calibration;
    expect(after.opened - before.opened).toBe(1);
    expect(after.reused - before.reused).toBe(3);
    await backend.close();
    expect(workerSessionStats().calibration.cached).toBe(0);
    expect(Buffer.from(sharded).equals(Buffer.from(await quantizeCnn(pipeline)))).toBe(true);
  });

  it('evaluation shards share one ORT session per model file, freed by close()', async () => {
    const backend = new EmbeddedBackend();
    const result = await evaluateDistributed(backend, FASHION_CNN, 'fashion-mnist:test', { limit: 300, batchSize: 100, shards: 3 });
    expect(result.total).toBe(300);
    expect(workerSessionStats().evaluationSessions).toBe(1);
    await backend.close();
    expect(workerSessionStats().evaluationSessions).toBe(0);
  });
});
