import { writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { evaluateAccuracy, loadDataset } from '@modelpass/runtime';
import {
  BullmqBackend,
  EmbeddedBackend,
  convertModel,
  distributedStatisticsCollector,
  evaluateDistributed,
  planShards,
  probeRedis,
  type CalibrationRunTiming,
} from '@modelpass/distributed';
import { FASHION_CNN, quantizeCnn } from './quantize-fixture.js';
import { freePort } from './redis-fixture.js';

describe('planShards', () => {
  it('cuts whole batches, the last shard shorter', () => {
    expect(planShards(512, { shards: 4, align: 64 })).toEqual([{ start: 0, end: 128 }, { start: 128, end: 256 }, { start: 256, end: 384 }, { start: 384, end: 512 }]);
    expect(planShards(200, { shards: 4, align: 64 })).toEqual([{ start: 0, end: 64 }, { start: 64, end: 128 }, { start: 128, end: 192 }, { start: 192, end: 200 }]);
    expect(planShards(100, { shards: 8, align: 64 })).toEqual([{ start: 0, end: 64 }, { start: 64, end: 100 }]);
    expect(() => planShards(10, { shards: 0, align: 1 })).toThrow(/shards is 0/);
  });
});

describe('embedded backend (no Redis)', () => {
  const backend = new EmbeddedBackend();

  for (const [name, pipeline] of [
    ['minmax on Fashion-MNIST', 'quantize-static{calibration=minmax dataset=fashion-mnist:train samples=320}'],
    ['entropy (histograms) on Fashion-MNIST', 'quantize-static{calibration=entropy dataset=fashion-mnist:train samples=256}'],
    ['percentile on seeded random inputs', 'quantize-static{calibration=percentile samples=200 seed=3}'],
  ] as const) {
    it(`sharded calibration gives the single-process model byte for byte: ${name}`, async () => {
      const single = await quantizeCnn(pipeline);
      const timings: CalibrationRunTiming[] = [];
      const sharded = await quantizeCnn(pipeline, distributedStatisticsCollector({ backend, shards: 4, onTiming: (t) => timings.push(t) }));
      expect(timings).toHaveLength(1);
      expect(timings[0]!.shards.length).toBeGreaterThanOrEqual(3);
      expect(Buffer.from(sharded).equals(Buffer.from(single))).toBe(true);
    });
  }

  it('a sampled histogram (histogram-stride > 1) is not sharded: it runs in this process and equals the single-process run', async () => {
    const pipeline = 'quantize-static{calibration=percentile dataset=fashion-mnist:train samples=256 histogram-stride=7}';
    const single = await quantizeCnn(pipeline);
    const timings: CalibrationRunTiming[] = [];
    const sharded = await quantizeCnn(pipeline, distributedStatisticsCollector({ backend, shards: 4, onTiming: (t) => timings.push(t) }));
    expect(timings).toHaveLength(0);
    expect(Buffer.from(sharded).equals(Buffer.from(single))).toBe(true);
  });

  it('a different sample count gives different bytes (the comparison can fail)', async () => {
    const a = await quantizeCnn('quantize-static{calibration=minmax dataset=fashion-mnist:train samples=64}');
    const b = await quantizeCnn('quantize-static{calibration=minmax dataset=fashion-mnist:train samples=128}', distributedStatisticsCollector({ backend, shards: 2 }));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it('sharded evaluation counts what a single evaluation counts', async () => {
    const limit = 1000;
    const single = await evaluateAccuracy(FASHION_CNN, loadDataset('fashion-mnist:test', { limit }), { limit, batchSize: 128 });
    const sharded = await evaluateDistributed(backend, FASHION_CNN, 'fashion-mnist:test', { limit, batchSize: 128, shards: 3 });
    expect(sharded.shards.map((s) => [s.start, s.end])).toEqual([[0, 384], [384, 768], [768, 1000]]);
    expect(sharded.correct).toBe(single.correct);
    expect(sharded.total).toBe(1000);
    expect(sharded.perClass).toEqual(single.perClass.map((c) => ({ total: c.total, correct: c.correct })));
    expect(sharded.accuracy).toBe(single.accuracy);
  });

  it('a failing shard is an error naming the shard and the cause', async () => {
    const missing = join(tmpdir(), 'no-such-model.onnx');
    await expect(evaluateDistributed(backend, FASHION_CNN, 'idx:/nonexistent/images,/nonexistent/labels')).rejects.toThrow(/nonexistent/);
    const error = await evaluateDistributed(backend, missing, 'fashion-mnist:test', { limit: 10 }).catch((e: unknown) => e);
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as Error).message).toMatch(/no-such-model\.onnx/);
  });

  it('convert jobs report a corrupt model with its error instead of failing the run', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'convert-'));
    const corrupt = join(folder, 'corrupt.onnx');
    writeFileSync(corrupt, Buffer.from('this is not a protobuf \u0000\u00ff\u00ff\u00ff\u00ff'));
    const bad = await convertModel({ input: corrupt, output: join(folder, 'out.onnx'), pipeline: 'simplify' });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/corrupt\.onnx/);
    expect(existsSync(join(folder, 'out.onnx'))).toBe(false);
    const good = await convertModel({ input: FASHION_CNN, output: join(folder, 'cnn.onnx'), pipeline: 'simplify' });
    expect(good).toMatchObject({ ok: true, output: join(folder, 'cnn.onnx') });
  });
});

describe('Redis connection errors', () => {
  it('an unreachable server fails fast, naming the URL', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    await expect(probeRedis(url, 2000)).rejects.toThrow(/no Redis server answers at redis:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    await expect(BullmqBackend.connect({ redis: url })).rejects.toThrow(/no Redis server answers/);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(BullmqBackend.connect({ redis: 'http://localhost' })).rejects.toThrow(/not a Redis URL/);
  });
});
