/**
 * `readDatasetRange` reads samples [start, end) and their labels and nothing else: checked with the
 * read counter (`countDatasetReads`: bytes taken from each file, samples decoded and passed over),
 * on real files — plain IDX, NumPy, and gzipped IDX (which must decompress through the samples
 * before the range but still stops at its end). The values equal `loadDataset`'s.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor } from '@modelpass/ir';
import { countDatasetReads, datasetSampleCount, encodeNpy, loadDataset, readDatasetRange, SeededRandom, streamDatasetSamples } from '../index.js';

const work = mkdtempSync(join(tmpdir(), 'modelpass-dataset-range-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const COUNT = 4000;
const SAMPLE = 28 * 28;
const random = new SeededRandom(11);
const pixels = Uint8Array.from({ length: COUNT * SAMPLE }, () => Math.floor(random.uniform(0, 256)));
const classes = Uint8Array.from({ length: COUNT }, (_, i) => (i * 7) % 10);

function idx(type: number, shape: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header.writeUInt32BE((type << 8) | shape.length, 0);
  shape.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

writeFileSync(join(work, 'images.idx'), idx(0x08, [COUNT, 28, 28], pixels));
writeFileSync(join(work, 'labels.idx'), idx(0x08, [COUNT], classes));
writeFileSync(join(work, 'images.idx.gz'), gzipSync(idx(0x08, [COUNT, 28, 28], pixels)));
writeFileSync(join(work, 'labels.idx.gz'), gzipSync(idx(0x08, [COUNT], classes)));
mkdirSync(join(work, 'npy'));
writeFileSync(join(work, 'npy', 'x.npy'), encodeNpy(Tensor.fromBytes('uint8', [COUNT, 28, 28], pixels)));
writeFileSync(join(work, 'npy', 'y.npy'), encodeNpy(Tensor.fromValues('int64', [COUNT], [...classes].map(BigInt))));

function expectSameAsLoadDataset(spec: string, start: number, end: number, got: Awaited<ReturnType<typeof readDatasetRange>>) {
  const whole = loadDataset(spec, { cwd: work, limit: end });
  expect(got.size).toBe(end - start);
  expect(got.sampleShape).toEqual([28, 28]);
  expect(Buffer.from(got.samples.bytes()).equals(Buffer.from(whole.samples.bytes().subarray(start * SAMPLE, end * SAMPLE)))).toBe(true);
  expect([...got.labels]).toEqual([...whole.labels.subarray(start, end)]);
}

describe('readDatasetRange', () => {
  it('plain IDX: seeks to the first sample and reads exactly the range of both files', async () => {
    const spec = 'idx:images.idx,labels.idx';
    const { value, reads } = await countDatasetReads(() => readDatasetRange(spec, { start: 1000, end: 1250, cwd: work }));
    expectSameAsLoadDataset(spec, 1000, 1250, value);
    expect(reads[join(work, 'images.idx')]).toEqual({ bytes: 16 + 250 * SAMPLE, samples: 250, skipped: 1000 });
    expect(reads[join(work, 'labels.idx')]).toEqual({ bytes: 8 + 250, samples: 250, skipped: 1000 });
  });

  it('NumPy: reads the header and the range only', async () => {
    const { value, reads } = await countDatasetReads(() => readDatasetRange('npy:npy', { start: 3900, end: 5000, cwd: work }));
    expectSameAsLoadDataset('npy:npy', 3900, 4000, value);
    const x = reads[join(work, 'npy', 'x.npy')]!;
    expect(x.samples).toBe(100);
    expect(x.skipped).toBe(3900);
    expect(x.bytes - 100 * SAMPLE).toBeLessThanOrEqual(128); // the header: magic, length and a dict padded to 64 bytes
    expect(reads[join(work, 'npy', 'y.npy')]!.bytes - 100 * 8).toBeLessThanOrEqual(128);
  });

  it('gzipped IDX: decompresses through the samples before the range, stops at its end', async () => {
    const spec = 'idx:images.idx.gz,labels.idx.gz';
    const { value, reads } = await countDatasetReads(() => readDatasetRange(spec, { start: 500, end: 600, cwd: work }));
    expectSameAsLoadDataset(spec, 500, 600, value);
    const images = reads[join(work, 'images.idx.gz')]!;
    expect(images).toMatchObject({ samples: 100, skipped: 500 });
    // Random pixels do not compress: 600 samples are ~15% of the file; the stream reads ahead by at most a chunk or two.
    expect(images.bytes).toBeLessThan(statSync(join(work, 'images.idx.gz')).size * 0.3);
  });

  it('streamDatasetSamples({ start, limit }) (calibration shards) and datasetSampleCount read no further either', async () => {
    const { reads } = await countDatasetReads(async () => {
      let batches = 0;
      for await (const batch of streamDatasetSamples('idx:images.idx,labels.idx', { batchSize: 64, start: 128, limit: 256, cwd: work })) batches += batch.input.shape[0]!;
      expect(batches).toBe(128);
      expect(await datasetSampleCount('npy:npy', work)).toBe(COUNT);
    });
    expect(reads[join(work, 'images.idx')]).toEqual({ bytes: 16 + 128 * SAMPLE, samples: 128, skipped: 128 });
    expect(reads[join(work, 'npy', 'x.npy')]!.samples).toBe(0);
    expect(reads[join(work, 'npy', 'x.npy')]!.bytes).toBeLessThanOrEqual(128);
  });

  it('errors name the dataset and the range', async () => {
    await expect(readDatasetRange('idx:images.idx,labels.idx', { start: 4000, end: 4100, cwd: work })).rejects.toThrow(/has 4000 samples, none in \[4000, 4100\)/);
    await expect(readDatasetRange('idx:images.idx,labels.idx', { start: 10, end: 10, cwd: work })).rejects.toThrow(/range \[10, 10\) is empty/);
    writeFileSync(join(work, 'short-labels.idx'), idx(0x08, [COUNT - 1], classes.subarray(1)));
    await expect(readDatasetRange('idx:images.idx,short-labels.idx', { start: 0, end: 10, cwd: work })).rejects.toThrow(/do not match samples/);
    // loadDataset with a limit compares the files' own counts, not the first `limit` of each.
    for (const limit of [10, undefined]) {
      expect(() => loadDataset('idx:images.idx,short-labels.idx', { cwd: work, ...(limit !== undefined ? { limit } : {}) })).toThrow(/do not match samples/);
    }
  });
});
