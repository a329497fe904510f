/**
 * Labelled data in the IDX format of MNIST and Fashion-MNIST (optionally gzipped): a magic number
 * giving the element type and rank, big-endian dimension sizes, then the elements big-endian.
 */
import { join } from 'node:path';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { ModelpassError, Tensor, elementCount, type DType } from '@modelpass/ir';
import { messageOf, runtimeError } from './errors.js';
import { readRegularFile } from './regular-file.js';

const idxTypes = new Map<number, { dtype: DType; size: number; read: (dv: DataView, offset: number) => number }>([
  [0x08, { dtype: 'uint8', size: 1, read: (dv, o) => dv.getUint8(o) }],
  [0x09, { dtype: 'int8', size: 1, read: (dv, o) => dv.getInt8(o) }],
  [0x0b, { dtype: 'int16', size: 2, read: (dv, o) => dv.getInt16(o, false) }],
  [0x0c, { dtype: 'int32', size: 4, read: (dv, o) => dv.getInt32(o, false) }],
  [0x0d, { dtype: 'float32', size: 4, read: (dv, o) => dv.getFloat32(o, false) }],
  [0x0e, { dtype: 'float64', size: 8, read: (dv, o) => dv.getFloat64(o, false) }],
]);

/** The most an IDX file may decompress to (one buffer's worth). */
const MAX_IDX_BYTES = 2 ** 31 - 1;

/** Decodes IDX bytes (gzipped or not) into a tensor; `limit` keeps only the first items. */
export function decodeIdx(bytes: Uint8Array, name = '<idx bytes>', limit?: number): Tensor {
  return decodeIdxItems(bytes, name, limit).tensor;
}

/**
 * The total length (header + data) an IDX header declares, from the first bytes of the file; undefined
 * when those bytes are too few to hold the header (the full decode then says what is wrong). A length
 * beyond what modelpass loads is refused here, before anything is decompressed.
 */
function declaredIdxLength(prefix: Uint8Array, name: string): number | undefined {
  const type = prefix.byteLength >= 4 && prefix[0] === 0 && prefix[1] === 0 ? idxTypes.get(prefix[2]!) : undefined;
  if (!type || prefix.byteLength < 4 + 4 * prefix[3]!) return undefined;
  const dv = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  let length = type.size;
  for (let i = 0; i < prefix[3]!; i++) length *= dv.getUint32(4 + 4 * i, false);
  length += 4 + 4 * prefix[3]!;
  if (length > MAX_IDX_BYTES) {
    throw runtimeError({ reason: `IDX header declares ${length} bytes, more than modelpass loads (${MAX_IDX_BYTES})`, location: { file: name } });
  }
  return length;
}

/** `decodeIdx`, with the number of items the file's header records (before `limit`). */
function decodeIdxItems(bytes: Uint8Array, name: string, limit?: number): { tensor: Tensor; items: number } {
  let raw = bytes;
  let declared: number | undefined;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      // Bounded by what the header declares, read from a decompressed prefix first: a few hundred bytes
      // of gzip can expand to gigabytes (Fashion-MNIST's largest file is 47 MB).
      declared = declaredIdxLength(gunzipSync(raw.subarray(0, 1 << 16), { finishFlush: zlibConstants.Z_SYNC_FLUSH }), name);
      raw = gunzipSync(raw, { maxOutputLength: declared ?? MAX_IDX_BYTES });
    } catch (cause) {
      if (cause instanceof ModelpassError) throw cause;
      const tooLarge = (cause as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
      throw runtimeError({
        reason: !tooLarge ? `corrupt gzip data in IDX file: ${messageOf(cause)}`
          : declared !== undefined ? `IDX file has data after the ${declared} bytes its header declares` : `IDX file decompresses to more than ${MAX_IDX_BYTES} bytes`,
        location: { file: name },
        cause,
      });
    }
  }
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const type = raw.byteLength >= 4 && raw[0] === 0 && raw[1] === 0 ? idxTypes.get(raw[2]!) : undefined;
  if (!type) {
    throw runtimeError({
      reason: 'not an IDX file (bad magic number)',
      location: { file: name },
      expected: '0x00 0x00 <type 08|09|0B|0C|0D|0E> <rank>',
      actual: [...raw.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' '),
    });
  }
  const rank = raw[3]!;
  const headerLength = 4 + 4 * rank;
  if (raw.byteLength < headerLength) throw runtimeError({ reason: 'truncated IDX header', location: { file: name } });
  const shape = Array.from({ length: rank }, (_, i) => dv.getUint32(4 + 4 * i, false));
  const count = elementCount(shape);
  if (raw.byteLength < headerLength + count * type.size) {
    throw runtimeError({
      reason: 'IDX data is shorter than its dimensions say',
      location: { file: name },
      expected: `${headerLength + count * type.size} bytes`,
      actual: `${raw.byteLength} bytes`,
    });
  }
  if (raw.byteLength > headerLength + count * type.size) {
    throw runtimeError({ reason: `IDX file has data after the ${headerLength + count * type.size} bytes its header declares`, location: { file: name }, actual: `${raw.byteLength} bytes` });
  }
  const items = rank > 0 ? shape[0]! : 1;
  if (limit !== undefined && rank > 0 && limit < shape[0]!) shape[0] = Math.max(0, limit);
  const kept = elementCount(shape);
  if (type.size === 1) {
    return { tensor: Tensor.fromBytes(type.dtype, shape, new Uint8Array(raw.subarray(headerLength, headerLength + kept))), items };
  }
  const values = new Array<number>(kept);
  for (let i = 0; i < kept; i++) values[i] = type.read(dv, headerLength + i * type.size);
  return { tensor: Tensor.fromValues(type.dtype, shape, values), items };
}

/** Reads an IDX file (`.gz` or not). */
export function readIdx(path: string, limit?: number): Tensor {
  return readIdxItems(path, limit).tensor;
}

function readIdxItems(path: string, limit?: number): { tensor: Tensor; items: number } {
  const hint = path.includes('fashion-mnist') ? 'install it: apt-get install -y --no-install-recommends dataset-fashion-mnist' : undefined;
  return decodeIdxItems(readRegularFile(path, 'IDX file', hint), path, limit);
}

/** Images (or any samples) with integer labels. */
export interface LabelledDataset {
  /** Samples, first axis is the sample index (e.g. uint8[10000, 28, 28]). */
  readonly samples: Tensor;
  readonly labels: Int32Array;
  readonly size: number;
  /** Shape of one sample. */
  readonly sampleShape: readonly number[];
}

export function loadIdxDataset(files: { readonly images: string; readonly labels: string }, limit?: number): LabelledDataset {
  const { tensor: samples, items: sampleItems } = readIdxItems(files.images, limit);
  const { tensor: labelTensor, items: labelItems } = readIdxItems(files.labels, limit);
  // Compare the headers' counts, not the first `limit` of each: files of different lengths are not pairs.
  if (labelTensor.rank !== 1 || samples.rank < 1 || labelItems !== sampleItems) {
    throw runtimeError({
      reason: `labels '${files.labels}' do not match samples '${files.images}'`,
      location: { file: files.labels },
      expected: `${sampleItems} labels`,
      actual: labelTensor.rank === 1 ? `${labelItems} labels` : `shape [${labelTensor.shape.join(',')}]`,
    });
  }
  return {
    samples,
    labels: Int32Array.from(labelTensor.toNumbers()),
    size: samples.shape[0]!,
    sampleShape: samples.shape.slice(1),
  };
}

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The class names of Fashion-MNIST, by label. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** Fashion-MNIST from Debian's `dataset-fashion-mnist` (or `dir`). */
export function loadFashionMnist(options: { readonly split?: 'train' | 'test'; readonly limit?: number; readonly dir?: string } = {}): LabelledDataset {
  const prefix = (options.split ?? 'test') === 'test' ? 't10k' : 'train';
  const dir = options.dir ?? FASHION_MNIST_DIR;
  return loadIdxDataset(
    { images: join(dir, `${prefix}-images-idx3-ubyte.gz`), labels: join(dir, `${prefix}-labels-idx1-ubyte.gz`) },
    options.limit,
  );
}

export interface Normalization {
  /** Multiplied first (default 1/255 for uint8 samples, 1 otherwise). */
  readonly scale?: number;
  /**
   * Then `(x - mean) / std` (defaults 0 and 1). A list gives one value per channel: the first axis
   * of the sample shape the model takes (NCHW: `[C, H, W]`).
   */
  readonly mean?: number | readonly number[];
  readonly std?: number | readonly number[];
}

/** How a dataset's samples are laid out: `nchw` (channels first, or no channel axis) or `nhwc` (`[H, W, C]` samples). */
export type SampleLayout = 'nchw' | 'nhwc';

export interface Batch {
  /** float32[batch, ...shape]. */
  readonly input: Tensor;
  readonly labels: Int32Array;
  /** Index of the first sample in the dataset. */
  readonly start: number;
}

export interface BatchOptions {
  readonly batchSize: number;
  readonly normalization?: Normalization;
  /** Shape of one sample as the model takes it (default the dataset's). */
  readonly sampleShape?: readonly number[];
  /** `nhwc`: samples are `[H, W, C]` and are transposed to `[C, H, W]` before the reshape (default `nchw`). */
  readonly layout?: SampleLayout;
}

/** Per-channel values as one list of `channels` entries (a single value applies to all). */
function perChannel(value: number | readonly number[], channels: number, name: string): readonly number[] {
  if (typeof value === 'number') return new Array<number>(channels).fill(value);
  if (value.length === 1) return new Array<number>(channels).fill(value[0]!);
  if (value.length !== channels) {
    throw runtimeError({ reason: `normalization ${name} has ${value.length} values, but the samples have ${channels} channels`, expected: `1 or ${channels} values` });
  }
  return value;
}

/** Position in an `[H, W, C]` sample of each element of its `[C, H, W]` transpose. */
function nhwcSourceIndex(shape: readonly number[]): Int32Array {
  if (shape.length !== 3) {
    throw runtimeError({ reason: `layout nhwc needs samples of rank 3 ([H, W, C]), but they are [${shape.join(',')}]` });
  }
  const [h, w, c] = shape as [number, number, number];
  const index = new Int32Array(h * w * c);
  let out = 0;
  for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) index[out++] = (y * w + x) * c + ch;
  return index;
}

/**
 * Fills `data` with normalized samples read from `values` at `from`. A plain function, not inlined in
 * the generator below: V8 does not optimize a loop inside a generator while it runs, so there every
 * intermediate double was a heap allocation (a third of a calibration's JavaScript garbage).
 */
function normalizeSamples(
  data: Float32Array,
  values: ArrayLike<number>,
  from: number,
  p: { sampleSize: number; channelSize: number; scale: number; mean: readonly number[]; std: readonly number[]; source: Int32Array | undefined },
): void {
  const { sampleSize, channelSize, scale, mean, std, source } = p;
  for (let to = 0; to < data.length; to += sampleSize, from += sampleSize) {
    for (let i = 0; i < sampleSize; i++) {
      const channel = Math.floor(i / channelSize);
      data[to + i] = (values[from + (source ? source[i]! : i)]! * scale - mean[channel]!) / std[channel]!;
    }
  }
}

/**
 * Float32 batches of a dataset, normalized, each sample reshaped to `sampleShape` (default the
 * dataset's; any shape with the same element count, e.g. [1, 28, 28] or [784]).
 */
export function* datasetBatches(dataset: LabelledDataset, options: BatchOptions): Generator<Batch> {
  const sampleShape = options.sampleShape ?? dataset.sampleShape;
  const sampleSize = elementCount(dataset.sampleShape);
  if (elementCount(sampleShape) !== sampleSize) {
    throw runtimeError({
      reason: `cannot reshape samples of shape [${dataset.sampleShape.join(',')}] to [${sampleShape.join(',')}]`,
      expected: `a shape of ${sampleSize} elements`,
    });
  }
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw runtimeError({ reason: 'batch size must be a positive integer', actual: String(options.batchSize) });
  }
  if (dataset.samples.dtype === 'int64' || dataset.samples.dtype === 'uint64' || dataset.samples.dtype === 'string' || dataset.samples.dtype === 'float16') {
    throw runtimeError({ reason: `samples of dtype ${dataset.samples.dtype} cannot be fed as float32`, expected: 'uint8, int8, (u)int16, (u)int32, float32 or float64 samples' });
  }
  const source = options.layout === 'nhwc' ? nhwcSourceIndex(dataset.sampleShape) : undefined;
  const channels = sampleShape.length > 0 && sampleSize > 0 ? sampleShape[0]! : 1;
  const channelSize = sampleSize / channels;
  const scale = options.normalization?.scale ?? (dataset.samples.dtype === 'uint8' ? 1 / 255 : 1);
  const mean = perChannel(options.normalization?.mean ?? 0, channels, 'mean');
  const std = perChannel(options.normalization?.std ?? 1, channels, 'std');
  const values = dataset.samples.data() as ArrayLike<number>;
  for (let start = 0; start < dataset.size; start += options.batchSize) {
    const count = Math.min(options.batchSize, dataset.size - start);
    const data = new Float32Array(count * sampleSize);
    normalizeSamples(data, values, start * sampleSize, { sampleSize, channelSize, scale, mean, std, source });
    yield {
      input: Tensor.fromBytes('float32', [count, ...sampleShape], new Uint8Array(data.buffer)),
      labels: dataset.labels.subarray(start, start + count),
      start,
    };
  }
}
