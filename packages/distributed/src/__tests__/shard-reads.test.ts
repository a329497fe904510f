/**
 * Every shard kind reads only its own range of the dataset files: calibration, evaluation and
 * training shards on a plain IDX copy of Fashion-MNIST report (through runtime's read counter) the
 * header plus exactly their samples and labels, with the samples before their start sought past.
 * Counted, not timed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '@modelpass/runtime';
import { EmbeddedBackend, distributedStatisticsCollector, evaluateDistributed, trainDataParallel, type CalibrationRunTiming, type ShardTiming } from '@modelpass/distributed';
import { FASHION_CNN, quantizeCnn } from './quantize-fixture.js';

const work = mkdtempSync(join(tmpdir(), 'shard-reads-'));
const SAMPLE = 28 * 28;
const backend = new EmbeddedBackend();

function idx(type: number, shape: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header.writeUInt32BE((type << 8) | shape.length, 0);
  shape.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

// The first 1,024 test images, uncompressed (a plain IDX file seeks; Fashion-MNIST's own files are gzipped).
const test = loadDataset('fashion-mnist:test', { limit: 1024 });
const images = join(work, 'images.idx');
const labels = join(work, 'labels.idx');
writeFileSync(images, idx(0x08, [1024, 28, 28], test.samples.bytes()));
writeFileSync(labels, idx(0x08, [1024], Uint8Array.from(test.labels)));
const spec = `idx:${images},${labels}`;

/** Each shard read its header, then exactly its range of both files. */
function expectOwnRanges(shards: readonly ShardTiming[], withLabels: boolean): void {
  expect(shards.length).toBeGreaterThan(1);
  for (const shard of shards) {
    const count = shard.end - shard.start;
    expect(shard.reads?.[images], `shard [${shard.start}, ${shard.end})`).toEqual({ bytes: 16 + count * SAMPLE, samples: count, skipped: shard.start });
    if (withLabels) expect(shard.reads?.[labels]).toEqual({ bytes: 8 + count, samples: count, skipped: shard.start });
    else expect(shard.reads?.[labels]).toBeUndefined();
  }
}

describe('shards read their own range only', () => {
  it('evaluation shards', async () => {
    const result = await evaluateDistributed(backend, FASHION_CNN, spec, { limit: 1000, batchSize: 128, shards: 3 });
    expect(result.shards.map((s) => [s.start, s.end])).toEqual([[0, 384], [384, 768], [768, 1000]]);
    expectOwnRanges(result.shards, true);
  });

  it('calibration shards (samples only)', async () => {
    const timings: CalibrationRunTiming[] = [];
    await quantizeCnn(`quantize-static{calibration=minmax dataset="${spec}" samples=512}`, distributedStatisticsCollector({ backend, shards: 4, onTiming: (t) => timings.push(t) }));
    expect(timings[0]!.shards.map((s) => [s.start, s.end])).toEqual([[0, 128], [128, 256], [256, 384], [384, 512]]);
    expectOwnRanges(timings[0]!.shards, false);
  });

  it('training shards', async () => {
    const result = await trainDataParallel(backend, FASHION_CNN, { dataset: spec, samples: 256, shards: 2, rounds: 1, batchSize: 64, lr: 0.01, checkpointFolder: join(work, 'ckpt') });
    expect(result.rounds[0]!.shards.map((s) => [s.start, s.end])).toEqual([[0, 128], [128, 256]]);
    expectOwnRanges(result.rounds[0]!.shards, true);
  });
});
