/**
 * Dataset samples read a batch at a time, for calibration runs whose memory must not grow with the
 * number of samples: the same specs as `loadDataset` (`fashion-mnist:train|test`, `idx:IMAGES,LABELS`,
 * `npy:DIR`), but only the samples are read (labels are not needed), gzipped IDX files are
 * decompressed as a stream, and NumPy files are read by position. What is held at once is one
 * batch plus the stream's buffers, whatever `limit` is.
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Tensor, elementCount, type DType } from '@modelpass/ir';
import { badSpec, DATASET_SCHEMES, schemeHint } from './dataset-spec.js';
import { messageOf, runtimeError } from './errors.js';
import { FASHION_MNIST_DIR, datasetBatches, type Normalization, type SampleLayout } from './idx-dataset.js';
import { recordDatasetRead } from './dataset-read-counter.js';
import { decodeNpyLayout } from './npy.js';
import { checkRegularFile } from './regular-file.js';

export interface StreamSamplesOptions {
  /** Samples per batch. */
  readonly batchSize: number;
  /** Stop after this many samples (default: all). */
  readonly limit?: number;
  /**
   * Index of the first sample to read (default 0): the batches cover samples [start, limit). An
   * uncompressed IDX file and a NumPy file seek there; a gzipped IDX file (Fashion-MNIST's) cannot
   * seek, so it still decompresses the samples before `start` (and discards them, never normalizing them).
   */
  readonly start?: number;
  /** Relative paths resolve against this folder (default `process.cwd()`). */
  readonly cwd?: string;
  /** Shape of one sample as the model takes it (default the dataset's). */
  readonly sampleShape?: readonly number[];
  readonly normalization?: Normalization;
  readonly layout?: SampleLayout;
}

export interface SampleBatch {
  /** float32[batch, ...sampleShape], normalized as `datasetBatches` does. */
  readonly input: Tensor;
  /** Index of the first sample in the dataset. */
  readonly start: number;
}

/** A file of samples read front to back. */
export interface SampleFile {
  readonly file: string;
  readonly dtype: DType;
  readonly sampleShape: readonly number[];
  readonly size: number;
  /** Element bytes, already little-endian, of the next `count` samples (fewer at the end of the file). */
  read(count: number): Promise<Uint8Array>;
  /** Moves past the next `count` samples without decoding them (a seek where the file allows one). */
  skip(count: number): Promise<void>;
  close(): void;
}

const IDX_TYPES = new Map<number, { dtype: DType; size: number }>([
  [0x08, { dtype: 'uint8', size: 1 }],
  [0x09, { dtype: 'int8', size: 1 }],
  [0x0b, { dtype: 'int16', size: 2 }],
  [0x0c, { dtype: 'int32', size: 4 }],
  [0x0d, { dtype: 'float32', size: 4 }],
  [0x0e, { dtype: 'float64', size: 8 }],
]);

function swapBytes(data: Uint8Array, itemSize: number): void {
  if (itemSize === 1) return;
  for (let start = 0; start < data.length; start += itemSize) data.subarray(start, start + itemSize).reverse();
}

/** Exact-size reads from a byte stream (a file, possibly through gunzip). */
class StreamReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;

  constructor(private readonly stream: Readable) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  /** The next `length` bytes, or fewer where the stream ends. */
  async read(length: number): Promise<Uint8Array> {
    while (this.pendingBytes < length && !this.ended) {
      const next = await this.iterator.next();
      if (next.done) this.ended = true;
      else {
        this.pending.push(next.value);
        this.pendingBytes += next.value.length;
      }
    }
    const take = Math.min(length, this.pendingBytes);
    const out = new Uint8Array(take);
    let filled = 0;
    while (filled < take) {
      const head = this.pending[0]!;
      const part = Math.min(head.length, take - filled);
      out.set(head.subarray(0, part), filled);
      filled += part;
      if (part === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(part);
    }
    this.pendingBytes -= take;
    return out;
  }

  close(): void {
    this.stream.destroy();
  }
}

function readPrefix(file: string, length: number): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const bytes = new Uint8Array(length);
    return bytes.subarray(0, readSync(fd, bytes, 0, length, 0));
  } finally {
    closeSync(fd);
  }
}

/** The IDX header's element type and shape, or an error naming the file. */
function parseIdxHeader(file: string, head: Uint8Array, dims: () => Uint8Array, fail: (reason: string, extra?: { expected?: string; actual?: string }) => Error): { type: { dtype: DType; size: number }; shape: number[] } {
  const type = head.length === 4 && head[0] === 0 && head[1] === 0 ? IDX_TYPES.get(head[2]!) : undefined;
  if (!type) throw fail('not an IDX file (bad magic number)', { expected: '0x00 0x00 <type 08|09|0B|0C|0D|0E> <rank>', actual: [...head].map((b) => b.toString(16).padStart(2, '0')).join(' ') });
  const rank = head[3]!;
  const bytes = rank === 0 ? new Uint8Array(0) : dims();
  if (bytes.length < 4 * rank || rank === 0) throw fail(rank === 0 ? 'IDX file of rank 0 has no samples' : 'truncated IDX header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { type, shape: Array.from({ length: rank }, (_, i) => view.getUint32(4 * i, false)) };
}

/** An uncompressed IDX file, read by position: a range costs its own bytes (plus the header). */
function openPlainIdx(file: string): SampleFile {
  const fail = (reason: string, extra: { expected?: string; actual?: string } = {}) => runtimeError({ reason, location: { file }, ...extra });
  const head = readPrefix(file, 4);
  const { type, shape } = parseIdxHeader(file, head, () => readPrefix(file, 4 + 4 * head[3]!).subarray(4), fail);
  const headerBytes = 4 + 4 * shape.length;
  recordDatasetRead(file, { bytes: headerBytes });
  const sampleShape = shape.slice(1);
  const sampleBytes = elementCount(sampleShape) * type.size;
  return positionalSamples(file, {
    dtype: type.dtype,
    sampleShape,
    size: shape[0]!,
    dataOffset: headerBytes,
    sampleBytes,
    swapItemSize: type.size,
    shortRead: () => fail('IDX data is shorter than its dimensions say', { expected: `${shape[0]} samples of ${sampleBytes} bytes` }),
  });
}

async function openIdx(file: string, hint?: string): Promise<SampleFile> {
  checkRegularFile(file, 'IDX file', hint);
  const gzipped = (() => {
    const magic = readPrefix(file, 2);
    return magic[0] === 0x1f && magic[1] === 0x8b;
  })();
  if (!gzipped) return openPlainIdx(file);
  const counted = new PassThrough();
  counted.on('data', (chunk: Buffer) => recordDatasetRead(file, { bytes: chunk.length }));
  const stream: Readable = pipeline(createReadStream(file), counted, createGunzip(), () => {});
  const reader = new StreamReader(stream);
  const fail = (reason: string, extra: { expected?: string; actual?: string } = {}) => {
    reader.close();
    return runtimeError({ reason, location: { file }, ...extra });
  };
  let head: Uint8Array;
  try {
    head = await reader.read(4);
  } catch (cause) {
    reader.close();
    throw runtimeError({ reason: `cannot read IDX file: ${messageOf(cause)}`, location: { file }, cause });
  }
  const dims = head.length === 4 && head[3]! > 0 ? await reader.read(4 * head[3]!) : new Uint8Array(0);
  const { type, shape } = parseIdxHeader(file, head, () => dims, fail);
  const sampleShape = shape.slice(1);
  const sampleBytes = elementCount(sampleShape) * type.size;
  return {
    file,
    dtype: type.dtype,
    sampleShape,
    size: shape[0]!,
    async skip(count) {
      if (count <= 0) return;
      const chunk = Math.max(1, Math.floor((1 << 20) / Math.max(1, sampleBytes)));
      for (let left = count; left > 0; left -= chunk) {
        const want = Math.min(chunk, left) * sampleBytes;
        const got = await reader.read(want);
        if (got.length < want) throw fail('IDX data is shorter than its dimensions say', { expected: `${shape[0]} samples of ${sampleBytes} bytes` });
      }
      recordDatasetRead(file, { skipped: count });
    },
    async read(count) {
      let bytes: Uint8Array;
      try {
        bytes = await reader.read(count * sampleBytes);
      } catch (cause) {
        throw fail(`cannot read IDX file: ${messageOf(cause)}`);
      }
      if (bytes.length < count * sampleBytes) throw fail('IDX data is shorter than its dimensions say', { expected: `${shape[0]} samples of ${sampleBytes} bytes` });
      recordDatasetRead(file, { samples: count });
      swapBytes(bytes, type.size);
      return bytes;
    },
    close: () => reader.close(),
  };
}

/** Bytes of a `.npy` file's magic and header (from its first 12 bytes; 1 MiB when they are not a NumPy preamble, for the decoder to name what is wrong). */
function npyHeaderBytes(file: string): number {
  const preamble = readPrefix(file, 12);
  const magic = preamble.length === 12 && preamble[0] === 0x93 && String.fromCharCode(...preamble.subarray(1, 6)) === 'NUMPY';
  if (!magic) return 1 << 20;
  const view = new DataView(preamble.buffer, preamble.byteOffset, 12);
  return preamble[6] === 1 ? 10 + view.getUint16(8, true) : 12 + view.getUint32(8, true);
}

function openNpy(file: string): SampleFile {
  const stats = checkRegularFile(file, 'NumPy file');
  const headerBytes = Math.min(stats.size, npyHeaderBytes(file), 1 << 20);
  const layout = decodeNpyLayout(readPrefix(file, headerBytes), file);
  if (layout.shape.length < 1) throw runtimeError({ reason: `samples '${file}' must have a sample axis first`, location: { file }, actual: `shape [${layout.shape.join(',')}]` });
  const sampleShape = layout.shape.slice(1);
  const sampleBytes = elementCount(sampleShape) * layout.itemSize;
  const size = layout.shape[0]!;
  if (stats.size - layout.dataOffset < size * sampleBytes) {
    throw runtimeError({ reason: 'data is shorter than its shape says in NumPy file', location: { file }, expected: `${size * sampleBytes} bytes`, actual: `${stats.size - layout.dataOffset} bytes` });
  }
  recordDatasetRead(file, { bytes: headerBytes });
  return positionalSamples(file, {
    dtype: layout.dtype,
    sampleShape,
    size,
    dataOffset: layout.dataOffset,
    sampleBytes,
    swapItemSize: layout.bigEndian ? layout.itemSize : undefined,
    shortRead: () => runtimeError({ reason: 'NumPy file ended early (was it truncated while reading?)', location: { file } }),
  });
}

/** Samples stored back to back from `dataOffset` (plain IDX, `.npy`), read by position: a range costs only its own bytes. */
function positionalSamples(
  file: string,
  layout: { dtype: DType; sampleShape: number[]; size: number; dataOffset: number; sampleBytes: number; swapItemSize: number | undefined; shortRead: () => Error },
): SampleFile {
  const fd = openSync(file, 'r');
  let next = 0;
  return {
    file,
    dtype: layout.dtype,
    sampleShape: layout.sampleShape,
    size: layout.size,
    skip(count) {
      next += Math.max(0, count);
      recordDatasetRead(file, { skipped: Math.max(0, count) });
      return Promise.resolve();
    },
    read(count) {
      const bytes = new Uint8Array(count * layout.sampleBytes);
      const got = readSync(fd, bytes, 0, bytes.length, layout.dataOffset + next * layout.sampleBytes);
      recordDatasetRead(file, { bytes: got, samples: count });
      if (got < bytes.length) return Promise.reject(layout.shortRead());
      next += count;
      if (layout.swapItemSize !== undefined) swapBytes(bytes, layout.swapItemSize);
      return Promise.resolve(bytes);
    },
    close: () => closeSync(fd),
  };
}


/** The samples file (or, with `part: 'labels'`, the labels file) a dataset spec names. */
export async function openSamples(spec: string, cwd: string, part: 'samples' | 'labels' = 'samples'): Promise<SampleFile> {
  const colon = spec.indexOf(':');
  const name = colon < 0 ? spec : spec.slice(0, colon);
  const argument = spec.slice(colon + 1);
  const known = [...DATASET_SCHEMES.values()].map((s) => `${s.name}:${s.argument}`).join(', ');
  if (!DATASET_SCHEMES.has(name)) throw badSpec(spec, `unknown kind of dataset '${name}'`, `one of ${known}`, schemeHint(spec, cwd));
  if (colon < 0) throw badSpec(spec, `'${name}' needs an argument`, `'${name}:${DATASET_SCHEMES.get(name)!.argument}'`);
  if (name === 'fashion-mnist') {
    if (argument !== 'train' && argument !== 'test') throw badSpec(spec, `unknown split '${argument}'`, "'fashion-mnist:train' or 'fashion-mnist:test'");
    const prefix = argument === 'test' ? 't10k' : 'train';
    const file = part === 'labels' ? `${prefix}-labels-idx1-ubyte.gz` : `${prefix}-images-idx3-ubyte.gz`;
    return openIdx(join(FASHION_MNIST_DIR, file), 'install it: apt-get install -y --no-install-recommends dataset-fashion-mnist');
  }
  if (name === 'idx') {
    const parts = argument.split(',');
    if (parts.length !== 2 || parts.some((p) => p.trim() === '')) throw badSpec(spec, 'needs two files separated by a comma', "'idx:IMAGES.gz,LABELS.gz'");
    return openIdx(resolve(cwd, parts[part === 'labels' ? 1 : 0]!));
  }
  if (name === 'npy') {
    if (argument === '') throw badSpec(spec, 'needs a folder', "'npy:DIR' with DIR/x.npy and DIR/y.npy");
    return openNpy(join(resolve(cwd, argument), part === 'labels' ? 'y.npy' : 'x.npy'));
  }
  throw badSpec(spec, `'${name}' datasets cannot be streamed yet`, `one of ${known}`);
}

/**
 * Float32 batches of a dataset's samples, read as they are needed: memory holds one batch, not the
 * dataset. Reads samples [`start`, `limit`) (default all); a consumer that stops early should `return()` the generator
 * (a `for await` loop that breaks does), which closes the file.
 */
export async function* streamDatasetSamples(spec: string, options: StreamSamplesOptions): AsyncGenerator<SampleBatch> {
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw runtimeError({ reason: 'batch size must be a positive integer', actual: String(options.batchSize) });
  }
  const first = options.start ?? 0;
  if (!Number.isInteger(first) || first < 0) throw runtimeError({ reason: 'start must be an integer ≥ 0', actual: String(options.start) });
  const samples = await openSamples(spec, options.cwd ?? process.cwd());
  try {
    const total = Math.min(samples.size, options.limit ?? samples.size);
    if (first > 0 && first < total) await samples.skip(first);
    for (let start = first; start < total; start += options.batchSize) {
      const count = Math.min(options.batchSize, total - start);
      const bytes = await samples.read(count);
      const chunk = { samples: Tensor.fromBytes(samples.dtype, [count, ...samples.sampleShape], bytes), labels: new Int32Array(count), size: count, sampleShape: samples.sampleShape };
      const batchOptions = {
        batchSize: count,
        ...(options.sampleShape ? { sampleShape: options.sampleShape } : {}),
        ...(options.normalization ? { normalization: options.normalization } : {}),
        ...(options.layout ? { layout: options.layout } : {}),
      };
      for (const batch of datasetBatches(chunk, batchOptions)) yield { input: batch.input, start };
    }
  } finally {
    samples.close();
  }
}
