/**
 * `streamDatasetSamples` against the whole-file reader (`loadDataset` + `datasetBatches`): the same
 * float batches for Fashion-MNIST (gzipped IDX), plain IDX of a multi-byte big-endian type, and
 * NumPy files little- and big-endian, with a limit that cuts a batch; and the errors it raises.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError, Tensor } from '@modelpass/ir';
import { datasetBatches, decodeNpyLayout, encodeNpy, loadDataset, streamDatasetSamples, writeNpy, type StreamSamplesOptions } from '../index.js';

const work = mkdtempSync(join(tmpdir(), 'modelpass-dataset-stream-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function streamed(spec: string, options: StreamSamplesOptions): Promise<{ shapes: number[][]; starts: number[]; values: number[] }> {
  const shapes: number[][] = [];
  const starts: number[] = [];
  const values: number[] = [];
  for await (const batch of streamDatasetSamples(spec, options)) {
    shapes.push([...batch.input.shape]);
    starts.push(batch.start);
    values.push(...(batch.input.data() as Float32Array));
  }
  return { shapes, starts, values };
}

/** The first `batchCount` batches (all when undefined) of the whole-file reader. */
function whole(spec: string, limit: number, batchSize: number, sampleShape?: number[], batchCount?: number) {
  const batches = [...datasetBatches(loadDataset(spec, { limit, cwd: work }), { batchSize, ...(sampleShape ? { sampleShape } : {}) })].slice(0, batchCount);
  return { shapes: batches.map((b) => [...b.input.shape]), starts: batches.map((b) => b.start), values: batches.flatMap((b) => [...(b.input.data() as Float32Array)]) };
}

describe('streamDatasetSamples', () => {
  it('gives the batches datasetBatches gives for fashion-mnist:test, limit cutting a batch', async () => {
    const got = await streamed('fashion-mnist:test', { batchSize: 64, limit: 150, sampleShape: [1, 28, 28] });
    expect(got.shapes).toEqual([[64, 1, 28, 28], [64, 1, 28, 28], [22, 1, 28, 28]]);
    expect(got).toEqual(whole('fashion-mnist:test', 150, 64, [1, 28, 28]));
  });

  it('reads plain big-endian int16 IDX files and NumPy files of either byte order', async () => {
    const count = 10;
    const header = Buffer.alloc(12);
    header.writeUInt32BE(0x00000b02, 0);
    header.writeUInt32BE(count, 4);
    header.writeUInt32BE(3, 8);
    const data = Buffer.alloc(count * 3 * 2);
    for (let i = 0; i < count * 3; i++) data.writeInt16BE(i * 37 - 500, i * 2);
    writeFileSync(join(work, 'images.idx'), Buffer.concat([header, data]));
    const labels = Buffer.alloc(8 + count);
    labels.writeUInt32BE(0x00000801, 0);
    labels.writeUInt32BE(count, 4);
    writeFileSync(join(work, 'labels.idx'), labels);
    const idx = 'idx:images.idx,labels.idx';
    expect(await streamed(idx, { batchSize: 4, cwd: work })).toEqual(whole(idx, count, 4));

    const samples = Tensor.fromValues('float64', [count, 2, 3], Array.from({ length: count * 6 }, (_, i) => Math.sin(i) * 100));
    for (const [folder, bigEndian] of [['npy-le', false], ['npy-be', true]] as const) {
      mkdirSync(join(work, folder));
      let bytes = encodeNpy(samples);
      if (bigEndian) {
        // Rewrite as '>f8' (same header length) with every element's bytes reversed.
        const text = Buffer.from(bytes).toString('latin1');
        const dataStart = bytes.length - count * 6 * 8;
        bytes = Uint8Array.from(Buffer.from(text.slice(0, dataStart).replace("'<f8'", "'>f8'"), 'latin1'));
        const swapped = Buffer.from(encodeNpy(samples).subarray(dataStart));
        for (let i = 0; i < swapped.length; i += 8) swapped.subarray(i, i + 8).reverse();
        bytes = Uint8Array.from(Buffer.concat([bytes, swapped]));
      }
      writeFileSync(join(work, folder, 'x.npy'), bytes);
      writeNpy(Tensor.fromValues('int32', [count], new Int32Array(count)), join(work, folder, 'y.npy'));
    }
    // loadDataset's limit reads only the first rows of x.npy (and the same count of labels).
    const limited = loadDataset('npy:npy-be', { limit: 9, cwd: work });
    expect(limited.samples.shape).toEqual([9, 2, 3]);
    expect(limited.labels.length).toBe(9);
    expect([...datasetBatches(limited, { batchSize: 3, sampleShape: [6] })].map((b) => [...(b.input.data() as Float32Array)])).toEqual(
      [...datasetBatches(loadDataset('npy:npy-le', { cwd: work }), { batchSize: 3, sampleShape: [6] })].slice(0, 3).map((b) => [...(b.input.data() as Float32Array)]),
    );
    expect(loadDataset('npy:npy-le', { limit: count + 5, cwd: work }).size).toBe(count);
    const little = await streamed('npy:npy-le', { batchSize: 3, limit: 9, cwd: work, sampleShape: [6] });
    expect(little.shapes).toEqual([[3, 6], [3, 6], [3, 6]]);
    expect(little).toEqual(whole('npy:npy-le', count, 3, [6], 3));
    expect(await streamed('npy:npy-be', { batchSize: 3, limit: 9, cwd: work, sampleShape: [6] })).toEqual(little);
  });

  it('starts at sample `start`: gzipped IDX (read through), plain IDX and NumPy (seeked), batches numbered from the dataset start', async () => {
    const fromStart = (spec: string, start: number, limit: number, batchSize: number, sampleShape: number[], cwd?: string) => {
      const all = [...datasetBatches(loadDataset(spec, { limit, ...(cwd ? { cwd } : {}) }), { batchSize: 1, sampleShape })].slice(start);
      return all.flatMap((b) => [...(b.input.data() as Float32Array)]);
    };
    const gz = await streamed('fashion-mnist:test', { batchSize: 64, start: 128, limit: 300, sampleShape: [1, 28, 28] });
    expect(gz.starts).toEqual([128, 192, 256]);
    expect(gz.shapes.at(-1)).toEqual([44, 1, 28, 28]);
    expect(gz.values).toEqual(fromStart('fashion-mnist:test', 128, 300, 64, [1, 28, 28]));

    const count = 50;
    const header = Buffer.alloc(16);
    header.writeUInt32BE(0x00000803, 0);
    header.writeUInt32BE(count, 4);
    header.writeUInt32BE(2, 8);
    header.writeUInt32BE(2, 12);
    const data = Buffer.from(Array.from({ length: count * 4 }, (_, i) => (i * 7) % 256));
    mkdirSync(join(work, 'start'), { recursive: true });
    writeFileSync(join(work, 'start', 'images.idx'), Buffer.concat([header, data]));
    const labels = Buffer.alloc(8 + count);
    labels.writeUInt32BE(0x00000801, 0);
    labels.writeUInt32BE(count, 4);
    writeFileSync(join(work, 'start', 'labels.idx'), labels);
    const idx = 'idx:images.idx,labels.idx';
    const cwd = join(work, 'start');
    const plain = await streamed(idx, { batchSize: 8, start: 13, cwd, sampleShape: [4] });
    expect(plain.starts).toEqual([13, 21, 29, 37, 45]);
    expect(plain.values).toEqual(fromStart(idx, 13, count, 8, [4], cwd));
    expect((await streamed(idx, { batchSize: 8, start: 50, cwd })).shapes).toEqual([]);

    writeNpy(Tensor.fromValues('float32', [count, 3], Array.from({ length: count * 3 }, (_, i) => i / 3)), join(cwd, 'x.npy'));
    writeNpy(Tensor.fromValues('int32', [count], new Int32Array(count)), join(cwd, 'y.npy'));
    const npy = await streamed('npy:.', { batchSize: 16, start: 32, limit: 45, cwd });
    expect(npy.starts).toEqual([32]);
    expect(npy.values).toEqual(fromStart('npy:.', 32, 45, 16, [3], cwd));
    await expect(streamed(idx, { batchSize: 8, start: -1, cwd })).rejects.toThrow(/start must be an integer/);
  });

  it('refuses unknown specs, missing files and a file shorter than its header says', async () => {
    const reason = async (spec: string, options: Partial<StreamSamplesOptions> = {}) => {
      const error = await streamed(spec, { batchSize: 4, cwd: work, ...options }).then(() => undefined, (e: unknown) => e);
      expect(ModelpassError.is(error), String(error)).toBe(true);
      return (error as ModelpassError).message;
    };
    expect(await reason('mnist:train')).toMatch(/unknown kind of dataset 'mnist'/);
    expect(await reason('npy:')).toMatch(/needs a folder/);
    expect(await reason('idx:missing.gz,labels.idx')).toMatch(/cannot read IDX file '.*missing\.gz': it does not exist/);
    const header = Buffer.alloc(12);
    header.writeUInt32BE(0x00000802, 0);
    header.writeUInt32BE(100, 4);
    header.writeUInt32BE(3, 8);
    writeFileSync(join(work, 'short.idx'), Buffer.concat([header, Buffer.alloc(30)]));
    expect((await streamed('idx:short.idx,labels.idx', { batchSize: 4, cwd: work, limit: 10 })).shapes).toEqual([[4, 3], [4, 3], [2, 3]]);
    expect(await reason('idx:short.idx,labels.idx', { limit: 11 })).toMatch(/IDX data is shorter than its dimensions say/);
    expect(await reason('fashion-mnist:test', { batchSize: 0 })).toMatch(/batch size must be a positive integer/);
  });
});

describe('decodeNpyLayout', () => {
  it('gives dtype, shape and data offset from the header alone, and refuses what cannot be read in pieces', () => {
    const bytes = encodeNpy(Tensor.fromValues('int16', [5, 2], new Int16Array(10)));
    const layout = decodeNpyLayout(bytes.subarray(0, bytes.length - 20), 'a.npy');
    expect(layout).toEqual({ dtype: 'int16', shape: [5, 2], dataOffset: bytes.length - 20, itemSize: 2, bigEndian: false });
    const header = (descr: string, fortran: string) => {
      const text = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': (2, 3), }`.padEnd(117, ' ') + '\n';
      return Uint8Array.from([0x93, ...Buffer.from('NUMPY'), 1, 0, text.length, 0, ...Buffer.from(text, 'latin1')]);
    };
    expect(() => decodeNpyLayout(header('<f4', 'True'), 'f.npy')).toThrow(/Fortran/);
    expect(() => decodeNpyLayout(header('<U3', 'False'), 's.npy')).toThrow(/unsupported dtype '<U3' for reading in pieces/);
    expect(() => decodeNpyLayout(header('<f4', 'False').subarray(0, 40), 't.npy')).toThrow(/truncated header/);
    expect(decodeNpyLayout(header('>f8', 'False')).bigEndian).toBe(true);
  });
});
