// Models over ONNX's 2 GiB protobuf limit, both ways: one built in code (2.25 GiB of computed
// weights) written by writeOnnx, read back by readOnnx and run by ONNX Runtime; one written by
// Debian's Python onnx, read by readOnnx, written again and checked by ONNX's checker and ORT.
// Peak memory is watched from a worker thread while each step runs: nothing may hold the weights.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statfsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  attrs,
  ComputedStorage,
  FileRangeStorage,
  GraphBuilder,
  modelsEqual,
  ModelpassError,
  Tensor,
  tensorType,
  type Model,
  type TensorStorage,
} from '@modelpass/ir';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { decodeModelProto } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const GiB = 2 ** 30;
const MiB = 2 ** 20;
/** Two models of 2.25 GiB live at once (Python's and its copy), plus headroom. */
const REQUIRED_FREE_BYTES = 6e9;
const ALIGNMENT = 4096;
/** Allowed RSS growth while a 2.25 GiB model is written or read: the weights must never be held. */
const RSS_GROWTH_LIMIT = 320 * MiB;

// ---------------------------------------------------------------------------------------------
// The weights: element i of weight t is the float32 whose bits are patternWord(t, i). Every value is
// finite, positions within 2^23 elements differ in the mantissa, and the 2^23-element block shows in
// the exponent, so a byte range read from the wrong place does not match.

function patternWord(t: number, i: number): number {
  return (((127 + ((t * 7 + Math.floor(i / 8388608)) % 20)) << 23) | (i & 0x7fffff)) >>> 0;
}

function patternFloat(t: number, i: number): number {
  return new Float32Array(new Uint32Array([patternWord(t, i)]).buffer)[0]!;
}

/**
 * Computed weight bytes that can also be produced chunk by chunk (`readChunk`, which writeOnnx uses
 * for big tensors), so a 768 MiB weight is written without ever existing whole in memory.
 */
class PatternStorage extends ComputedStorage {
  constructor(
    readonly t: number,
    byteLength: number,
    private readonly failAtByte = Infinity,
  ) {
    super(byteLength, () => this.fill(new Uint8Array(byteLength), 0), `pattern${t}`);
  }

  readChunk(target: Uint8Array, start: number): void {
    this.fill(target, start);
  }

  private fill(target: Uint8Array, start: number): Uint8Array {
    if (start + target.byteLength > this.failAtByte) throw new Error(`pattern${this.t}: simulated failure at byte ${this.failAtByte}`);
    if (start % 4 !== 0 || target.byteLength % 4 !== 0 || target.byteOffset % 4 !== 0) throw new Error('unaligned pattern chunk');
    const words = new Uint32Array(target.buffer, target.byteOffset, target.byteLength / 4);
    const first = start / 4;
    for (let k = 0; k < words.length; k++) words[k] = patternWord(this.t, first + k);
    return target;
  }
}

interface WeightSpec {
  readonly name: string;
  readonly shape: readonly [number, number];
  /** Pattern number. */
  readonly t: number;
}

const byteLengthOf = (w: WeightSpec): number => w.shape[0] * w.shape[1] * 4;

/** Three rows of each weight: the first, one past the middle, the last. */
function rowsFor(w: WeightSpec): number[] {
  return [0, Math.floor(w.shape[0] / 2) + 1, w.shape[0] - 1];
}

function rowFeeds(weights: readonly WeightSpec[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  weights.forEach((w, k) => (feeds[`rows${k}`] = new ort.Tensor('int64', BigInt64Array.from(rowsFor(w).map(BigInt)), [3])));
  return feeds;
}

/** `picked`: the gathered rows side by side; the second output adds row pieces of two weights. */
function expectedPicked(weights: readonly WeightSpec[]): Float32Array {
  const width = weights.reduce((sum, w) => sum + w.shape[1], 0);
  const out = new Float32Array(3 * width);
  for (let r = 0; r < 3; r++) {
    let column = 0;
    for (const w of weights) {
      const row = rowsFor(w)[r]!;
      for (let c = 0; c < w.shape[1]; c++) out[r * width + column + c] = patternFloat(w.t, row * w.shape[1] + c);
      column += w.shape[1];
    }
  }
  return out;
}

/** `sum[r, c] = a[rows_a[r], c] + b[rows_b[r], c]` for c < width (b may be a vector: row ignored). */
function expectedSum(a: WeightSpec, b: WeightSpec | { t: number; vector: true }, width: number): Float32Array {
  const out = new Float32Array(3 * width);
  for (let r = 0; r < 3; r++) {
    const rowA = rowsFor(a)[r]!;
    for (let c = 0; c < width; c++) {
      const second = 'vector' in b ? patternFloat(b.t, c) : patternFloat(b.t, rowsFor(b)[r]! * b.shape[1] + c);
      out[r * width + c] = Math.fround(patternFloat(a.t, rowA * a.shape[1] + c) + second);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Helpers: peak RSS from a worker thread, file samples, ORT runs.

interface RssWatch<T> {
  readonly result: T;
  /** RSS when the body started. */
  readonly before: number;
  /** Highest RSS sampled while it ran. */
  readonly peak: number;
}

/**
 * Runs `body` while a worker thread samples the process RSS every few milliseconds (the main thread
 * is busy in synchronous reads and writes, so it could not sample itself).
 */
async function watchRss<T>(body: () => T | Promise<T>): Promise<RssWatch<T>> {
  const cells = new Float64Array(new SharedArrayBuffer(16)); // [peak, stop]
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const cells = new Float64Array(workerData);
     const pause = new Int32Array(new SharedArrayBuffer(4));
     parentPort.postMessage('ready');
     while (cells[1] === 0) {
       const rss = process.memoryUsage.rss();
       if (rss > cells[0]) cells[0] = rss;
       Atomics.wait(pause, 0, 0, 2);
     }`,
    { eval: true, workerData: cells.buffer },
  );
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  const before = process.memoryUsage.rss();
  try {
    const result = await body();
    cells[1] = 1;
    await exited;
    return { result, before, peak: Math.max(cells[0]!, process.memoryUsage.rss()) };
  } finally {
    cells[1] = 1;
    await exited;
  }
}

const figures: string[] = [];

function noteRss(label: string, watch: RssWatch<unknown>): number {
  const growth = watch.peak - watch.before;
  figures.push(`${label}: RSS ${(watch.before / MiB).toFixed(0)} MiB before, peak ${(watch.peak / MiB).toFixed(0)} MiB (+${(growth / MiB).toFixed(0)} MiB)`);
  return growth;
}

/** Asserts that the RSS grew by less than the limit while the body ran; notes the figure. */
function expectSmallGrowth(label: string, watch: RssWatch<unknown>, limit = RSS_GROWTH_LIMIT): void {
  const growth = noteRss(label, watch);
  expect(growth, `${label}: RSS grew by ${(growth / MiB).toFixed(0)} MiB`).toBeLessThan(limit);
}

function readAt(path: string, position: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < length) {
      const n = readSync(fd, bytes, done, length - done, position + done);
      if (n === 0) throw new Error(`${path} ends at ${position + done}, wanted ${position + length}`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** Offsets (within a tensor) worth sampling: both ends, around 16 MiB copy-chunk edges, the middle. */
function sampleOffsets(byteLength: number, sample: number): number[] {
  const middle = Math.floor(byteLength / 2 / 4) * 4;
  const points = [0, 16 * MiB - sample / 2, 32 * MiB - sample / 2, middle, byteLength - 16 * MiB - sample / 2, byteLength - sample];
  return points.filter((p) => p >= 0 && p + sample <= byteLength);
}

/** First mismatch between a tensor's bytes in a file at `offset` and its pattern, or undefined. */
function patternMismatch(path: string, offset: number, w: WeightSpec | { t: number; byteLength: number; name: string }): string | undefined {
  const byteLength = 'shape' in w ? byteLengthOf(w) : w.byteLength;
  const sample = Math.min(64 * 1024, byteLength);
  for (const start of sampleOffsets(byteLength, sample)) {
    const bytes = readAt(path, offset + start, sample);
    const words = new Uint32Array(bytes.buffer);
    for (let k = 0; k < words.length; k++) {
      const expected = patternWord(w.t, start / 4 + k);
      if (words[k] !== expected) return `${w.name}: word at byte ${start + 4 * k} is ${words[k]}, expected ${expected}`;
    }
  }
  return undefined;
}

async function runOrt(path: string, feeds: Record<string, ort.Tensor>): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(path, { logSeverityLevel: 3 });
  try {
    const outputs = await session.run(feeds);
    return Object.fromEntries(Object.entries(outputs).map(([name, tensor]) => [name, tensor.data as Float32Array]));
  } finally {
    await session.release();
  }
}

/** Index of the first element that differs (bit for bit, as Object.is sees floats), or -1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

interface ExternalEntry {
  readonly name: string;
  readonly location: string;
  readonly offset: number;
  readonly length: number;
  readonly hasRawData: boolean;
}

/** The initializers of an .onnx file as stored (decoded with protobufjs, not our importer). */
function storedInitializers(path: string): ExternalEntry[] {
  const proto = decodeModelProto(readAt(path, 0, statSync(path).size));
  return (proto.graph?.initializer ?? []).map((tensor) => {
    const entries = new Map((tensor.external_data ?? []).map((e) => [e.key, e.value]));
    return {
      name: tensor.name ?? '',
      location: entries.get('location') ?? '',
      offset: Number(entries.get('offset') ?? 0),
      length: Number(entries.get('length') ?? -1),
      hasRawData: (tensor.raw_data?.byteLength ?? 0) > 0,
    };
  });
}

/** ONNX's checker on a path (works past 2 GiB), with full_check's strict shape inference. */
function onnxChecker(path: string): void {
  // check_model(path, full_check=True) runs infer_shapes_path with the model as its own output,
  // rewriting the file; the same checks are run here with the inferred model written aside.
  const script = [
    'import sys, onnx',
    'from onnx import checker, shape_inference',
    'checker.check_model(sys.argv[1])',
    'shape_inference.infer_shapes_path(sys.argv[1], sys.argv[2], check_type=True, strict_mode=True)',
  ].join('\n');
  const scratch = `${path}.inferred`;
  try {
    execFileSync(PYTHON, ['-c', script, path, scratch], { stdio: 'pipe', timeout: 120_000 });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    throw new Error(`ONNX's checker rejects ${path}:\n${stderr}`);
  } finally {
    rmSync(scratch, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------

let root = '';

beforeAll(() => {
  const { bavail, bsize } = statfsSync(tmpdir());
  const free = bavail * bsize;
  if (free < REQUIRED_FREE_BYTES) {
    throw new Error(
      `large-model tests need ${(REQUIRED_FREE_BYTES / 1e9).toFixed(0)} GB free in ${tmpdir()} (two 2.25 GiB models at once); ` +
        `only ${(free / 1e9).toFixed(1)} GB are free. Free disk space or point TMPDIR at a bigger disk.`,
    );
  }
  root = mkdtempSync(join(tmpdir(), 'modelpass-onnx-large-'));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

afterAll(() => {
  // The figures, for whoever reads the test log (they go into no assertion beyond the limits).
  if (figures.length > 0) console.info(`large-model figures:\n  ${figures.join('\n  ')}`);
});

// ---------------------------------------------------------------------------------------------
// 1-4: a model built in code.

const CODE_WEIGHTS: readonly WeightSpec[] = [
  { name: 'w0', shape: [196608, 1024], t: 0 },
  { name: 'w1', shape: [98304, 2048], t: 1 },
  { name: 'w2', shape: [786432, 256], t: 2 },
];
const CODE_SUM_WIDTH = 256;

/**
 * rows_k -> Gather(w_k) for each weight; `picked` = Concat of the gathered rows (axis 1);
 * `sum` = Slice(gathered w0, columns [0, 256)) + gathered w2. Weight storage comes from `storageOf`.
 */
function buildCodeModel(storageOf: (w: WeightSpec, index: number) => TensorStorage, file?: string): Model {
  const b = new GraphBuilder();
  // readOnnx locates each node in its file; the model expected from a file says so too.
  const at = (name: string) => (file === undefined ? { name } : { name, loc: { file, node: name } });
  const gathered = CODE_WEIGHTS.map((w, k) => {
    const weight = b.constant(Tensor.fromStorage('float32', w.shape, storageOf(w, k)), w.name);
    const rows = b.input(`rows${k}`, tensorType('int64', [3]));
    return b.op1('onnx.Gather', [weight, rows], { axis: attrs.int(0) }, { ...at(`gather_${w.name}`), types: [tensorType('float32', [3, w.shape[1]])] });
  });
  const width = CODE_WEIGHTS.reduce((sum, w) => sum + w.shape[1], 0);
  const picked = b.op1('onnx.Concat', gathered, { axis: attrs.int(1) }, { ...at('concat'), outputs: ['picked'], types: [tensorType('float32', [3, width])] });
  const int64 = (name: string, value: number) => b.constant(Tensor.fromValues('int64', [1], [value]), name);
  const head = b.op1('onnx.Slice', [gathered[0]!, int64('starts', 0), int64('ends', CODE_SUM_WIDTH), int64('axes', 1)], {}, {
    ...at('slice_w0'),
    types: [tensorType('float32', [3, CODE_SUM_WIDTH])],
  });
  const sum = b.op1('onnx.Add', [head, gathered[2]!], {}, { ...at('add'), outputs: ['sum'], types: [tensorType('float32', [3, CODE_SUM_WIDTH])] });
  b.output(picked, sum);
  const model = b.model({ onnx: 17 });
  model.irVersion = 8;
  model.producerName = 'modelpass-large-model-test';
  return model;
}

const patternModel = (failAt?: { weight: string; byte: number }) =>
  buildCodeModel((w) => new PatternStorage(w.t, byteLengthOf(w), failAt?.weight === w.name ? failAt.byte : Infinity));

/** Where writeOnnx must place each weight: one after the other, each at the next 4096 multiple. */
function expectedPlacements(weights: readonly WeightSpec[]): number[] {
  const offsets: number[] = [];
  let end = 0;
  for (const w of weights) {
    const offset = Math.ceil(end / ALIGNMENT) * ALIGNMENT;
    offsets.push(offset);
    end = offset + byteLengthOf(w);
  }
  return offsets;
}

describe('a 2.25 GiB model built in code', () => {
  let dir = '';
  let modelPath = '';
  let dataPath = '';

  beforeAll(() => {
    dir = join(root, 'code');
    rmSync(dir, { recursive: true, force: true });
    execFileSync('mkdir', ['-p', dir]);
    modelPath = join(dir, 'large.onnx');
    dataPath = join(dir, 'large.onnx.data');
  });

  // The next describe needs the disk space.
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('writeOnnx (externalData auto) streams the weights to one 4096-aligned data file, atomically', async () => {
    const model = patternModel();
    const watch = await watchRss(() => writeOnnx(model, modelPath));
    expectSmallGrowth('writeOnnx, 2.25 GiB computed weights', watch);

    expect(readdirSync(dir).sort()).toEqual(['large.onnx', 'large.onnx.data']); // no temporary files left
    expect(statSync(modelPath).size).toBeLessThan(4096);
    const dataSize = statSync(dataPath).size;
    expect(dataSize).toBeGreaterThan(2 * GiB);

    const stored = storedInitializers(modelPath);
    const offsets = expectedPlacements(CODE_WEIGHTS);
    CODE_WEIGHTS.forEach((w, k) => {
      const entry = stored.find((e) => e.name === w.name);
      expect(entry, w.name).toMatchObject({ location: 'large.onnx.data', offset: offsets[k], length: byteLengthOf(w), hasRawData: false });
      expect(entry!.offset % ALIGNMENT).toBe(0);
      expect(patternMismatch(dataPath, entry!.offset, w)).toBeUndefined();
    });
    expect(dataSize).toBe(offsets.at(-1)! + byteLengthOf(CODE_WEIGHTS.at(-1)!));
    // The 8-byte Slice parameters stay inside the .onnx file.
    for (const name of ['starts', 'ends', 'axes']) expect(stored.find((e) => e.name === name)).toMatchObject({ location: '', hasRawData: true });
  }, 120_000);

  test("externalData 'never' refuses the model before writing anything", () => {
    const target = join(dir, 'never.onnx');
    let error: unknown;
    try {
      writeOnnx(patternModel(), target, { externalData: 'never' });
    } catch (caught) {
      error = caught;
    }
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as ModelpassError).message).toMatch(/2 GiB/);
    expect(readdirSync(dir).sort()).toEqual(['large.onnx', 'large.onnx.data']);
  });

  test('a write that fails midway leaves the previous model in place and no temporary files', () => {
    const before = [statSync(modelPath), statSync(dataPath)].map((s) => [s.ino, s.size, s.mtimeMs]);
    let error: unknown;
    try {
      writeOnnx(patternModel({ weight: 'w0', byte: 40 * MiB }), modelPath);
    } catch (caught) {
      error = caught;
    }
    expect(ModelpassError.is(error), String(error)).toBe(true);
    expect((error as ModelpassError).message).toMatch(/simulated failure/);
    expect(readdirSync(dir).sort()).toEqual(['large.onnx', 'large.onnx.data']);
    expect([statSync(modelPath), statSync(dataPath)].map((s) => [s.ino, s.size, s.mtimeMs])).toEqual(before);
  }, 60_000);

  test('readOnnx reads it back lazily: the same IR, ranges at the written offsets, the pattern bytes', async () => {
    const watch = await watchRss(() => {
      const read = readOnnx(modelPath);
      // The in-code model over the ranges writeOnnx must have used: modelsEqual compares everything
      // (names, types, nodes, attributes, the small tensors' bytes) and the big tensors' ranges.
      const offsets = expectedPlacements(CODE_WEIGHTS);
      const expected = buildCodeModel((w, k) => new FileRangeStorage(dataPath, offsets[k]!, byteLengthOf(w)), modelPath);
      return { read, difference: modelsEqual(expected, read) };
    });
    expectSmallGrowth('readOnnx + modelsEqual', watch, 64 * MiB);
    const { read, difference } = watch.result;
    expect(difference).toBeUndefined();
    for (const w of CODE_WEIGHTS) {
      const storage = read.graph.constants.find((v) => v.name === w.name)!.constant!.storage!;
      expect(storage).toBeInstanceOf(FileRangeStorage);
      const range = storage as FileRangeStorage;
      // The samples through readOnnx's own range reader, and straight from the file.
      const chunk = new Uint8Array(4096);
      (range as unknown as { readChunk(target: Uint8Array, start: number): void }).readChunk(chunk, byteLengthOf(w) - 4096);
      const last = new Uint32Array(chunk.buffer);
      const firstWord = (byteLengthOf(w) - 4096) / 4;
      expect(last.every((word, k) => word === patternWord(w.t, firstWord + k))).toBe(true);
      expect(patternMismatch(range.path, range.offset, w)).toBeUndefined();
    }
  }, 60_000);

  test('ONNX Runtime loads the written model from its path and gathers the expected rows', async () => {
    const watch = await watchRss(() => runOrt(modelPath, rowFeeds(CODE_WEIGHTS)));
    noteRss('ONNX Runtime session + run (mapped, not asserted)', watch);
    const outputs = watch.result;
    expect(firstDifference(outputs.picked!, expectedPicked(CODE_WEIGHTS))).toBe(-1);
    expect(firstDifference(outputs.sum!, expectedSum(CODE_WEIGHTS[0]!, CODE_WEIGHTS[2]!, CODE_SUM_WIDTH))).toBe(-1);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// 5: a model over 2 GiB written by Python onnx (the data file written by numpy in chunks, the .onnx
// by onnx.save_model with external_data entries), laid out as onnx.save_model lays external data
// out: tensors back to back. A 1028-byte bias first puts every weight at an offset that is not a
// multiple of 4 KiB, which writeOnnx must realign.

const PYTHON_WEIGHTS: readonly WeightSpec[] = [
  { name: 'w0', shape: [196608, 1024], t: 3 },
  { name: 'w1', shape: [98304, 2048], t: 4 },
  { name: 'w2', shape: [786432, 256], t: 5 },
];
const PYTHON_BIAS = { name: 'bias', t: 6, length: 257 };

const PYTHON_MAKE_MODEL = String.raw`
import json, os, sys
import numpy as np
import onnx
from onnx import TensorProto, helper, external_data_helper

out_dir, spec = sys.argv[1], json.loads(sys.argv[2])
CHUNK = 1 << 22  # elements per write

def pattern(t, start, count):
    i = np.arange(start, start + count, dtype=np.uint32)
    exponent = (np.uint32(127) + (np.uint32(t * 7) + (i >> np.uint32(23))) % np.uint32(20)).astype(np.uint32)
    return ((exponent << np.uint32(23)) | (i & np.uint32(0x7fffff))).astype('<u4')

tensors = [(spec['bias']['name'], [spec['bias']['length']], spec['bias']['t'])]
tensors += [(w['name'], w['shape'], w['t']) for w in spec['weights']]
initializers, placements, offset = [], {}, 0
with open(os.path.join(out_dir, 'py.weights'), 'wb') as data:
    for name, shape, t in tensors:
        count = int(np.prod(shape))
        for start in range(0, count, CHUNK):
            data.write(pattern(t, start, min(CHUNK, count - start)).tobytes())
        tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=shape, raw_data=b'')
        external_data_helper.set_external_data(tensor, 'py.weights', offset, count * 4)
        tensor.ClearField('raw_data')
        initializers.append(tensor)
        placements[name] = offset
        offset += count * 4

ints = lambda name, value: helper.make_tensor(name, TensorProto.INT64, [1], [value])
initializers += [ints('starts', 0), ints('ends', spec['bias']['length']), ints('axes', 1)]
weights = spec['weights']
width = sum(w['shape'][1] for w in weights)
nodes = [helper.make_node('Gather', [w['name'], 'rows%d' % k], ['g%d' % k], name='gather_' + w['name'], axis=0) for k, w in enumerate(weights)]
nodes.append(helper.make_node('Concat', ['g%d' % k for k in range(len(weights))], ['picked'], name='concat', axis=1))
nodes.append(helper.make_node('Slice', ['g0', 'starts', 'ends', 'axes'], ['head'], name='slice_w0'))
nodes.append(helper.make_node('Add', ['head', spec['bias']['name']], ['biased'], name='add_bias'))
graph = helper.make_graph(
    nodes, 'python-large',
    [helper.make_tensor_value_info('rows%d' % k, TensorProto.INT64, [3]) for k in range(len(weights))],
    [helper.make_tensor_value_info('picked', TensorProto.FLOAT, [3, width]),
     helper.make_tensor_value_info('biased', TensorProto.FLOAT, [3, spec['bias']['length']])],
    initializer=initializers)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)], producer_name='python-onnx-large-test')
model.ir_version = 8
path = os.path.join(out_dir, 'py.onnx')
onnx.save_model(model, path)
print(json.dumps(placements))
`;

describe('a 2.25 GiB model written by Python onnx', () => {
  let dir = '';
  let pythonPath = '';
  let copyPath = '';
  let placements: Record<string, number> = {};

  beforeAll(() => {
    dir = join(root, 'python');
    execFileSync('mkdir', ['-p', dir]);
    pythonPath = join(dir, 'py.onnx');
    copyPath = join(dir, 'copy.onnx');
    const spec = JSON.stringify({ weights: PYTHON_WEIGHTS, bias: PYTHON_BIAS });
    const started = performance.now();
    const stdout = execFileSync(PYTHON, ['-c', PYTHON_MAKE_MODEL, dir, spec], { encoding: 'utf8', timeout: 180_000 });
    figures.push(`Python numpy + onnx.save_model wrote the 2.25 GiB model in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    placements = JSON.parse(stdout.trim()) as Record<string, number>;
  }, 200_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("Python's file is what it should be: over 2 GiB, weights at unaligned offsets, accepted by ONNX's checker", () => {
    expect(statSync(join(dir, 'py.weights')).size).toBeGreaterThan(2 * GiB);
    const stored = storedInitializers(pythonPath);
    for (const w of PYTHON_WEIGHTS) {
      const entry = stored.find((e) => e.name === w.name)!;
      expect(entry).toMatchObject({ location: 'py.weights', offset: placements[w.name], length: byteLengthOf(w) });
      expect(entry.offset % ALIGNMENT).not.toBe(0);
      expect(patternMismatch(join(dir, 'py.weights'), entry.offset, w)).toBeUndefined();
    }
    onnxChecker(pythonPath);
  }, 60_000);

  test('readOnnx reads it lazily and writeOnnx copies it by range to an aligned data file the checker accepts', async () => {
    const watch = await watchRss(() => {
      const model = readOnnx(pythonPath);
      writeOnnx(model, copyPath);
      return model;
    });
    expectSmallGrowth("readOnnx + writeOnnx of Python's 2.25 GiB model", watch);
    const model = watch.result;
    for (const w of [...PYTHON_WEIGHTS, { name: PYTHON_BIAS.name }]) {
      const storage = model.graph.constants.find((v) => v.name === w.name)?.constant?.storage;
      expect(storage, w.name).toBeInstanceOf(FileRangeStorage);
      expect((storage as FileRangeStorage).offset).toBe(placements[w.name]);
    }

    expect(readdirSync(dir).sort()).toEqual(['copy.onnx', 'copy.onnx.data', 'py.onnx', 'py.weights']);
    expect(statSync(copyPath).size).toBeLessThan(4096);
    expect(statSync(`${copyPath}.data`).size).toBeGreaterThan(2 * GiB);
    const stored = storedInitializers(copyPath);
    for (const w of PYTHON_WEIGHTS) {
      const entry = stored.find((e) => e.name === w.name)!;
      expect(entry).toMatchObject({ location: 'copy.onnx.data', length: byteLengthOf(w), hasRawData: false });
      expect(entry.offset % ALIGNMENT).toBe(0);
      expect(patternMismatch(`${copyPath}.data`, entry.offset, w)).toBeUndefined();
    }
    const bias = stored.find((e) => e.name === PYTHON_BIAS.name)!;
    expect(bias).toMatchObject({ location: 'copy.onnx.data', length: PYTHON_BIAS.length * 4 });
    expect(bias.offset % ALIGNMENT).toBe(0);
    expect(patternMismatch(`${copyPath}.data`, bias.offset, { ...PYTHON_BIAS, byteLength: PYTHON_BIAS.length * 4 })).toBeUndefined();

    // The copy read back is the same IR as Python's file, apart from where the weights live.
    const reread = readOnnx(copyPath);
    const names = (m: Model) => Array.from(m.graph.nodes(), (n) => `${n.op}:${n.name}`);
    expect(names(reread)).toEqual(names(model));
    expect(reread.graph.constants.map((v) => [v.name, v.constant?.dtype, v.constant?.shape])).toEqual(
      model.graph.constants.map((v) => [v.name, v.constant?.dtype, v.constant?.shape]),
    );

    onnxChecker(copyPath);
  }, 120_000);

  test("ONNX Runtime gives the same outputs on Python's file and on the copy, and they match the pattern", async () => {
    const feeds = rowFeeds(PYTHON_WEIGHTS);
    const original = await runOrt(pythonPath, feeds);
    const watch = await watchRss(() => runOrt(copyPath, feeds));
    noteRss('ONNX Runtime session + run on the copy (mapped, not asserted)', watch);
    const copy = watch.result;
    expect(Object.keys(copy).sort()).toEqual(['biased', 'picked']);
    for (const name of ['picked', 'biased']) expect(firstDifference(copy[name]!, original[name]!), name).toBe(-1);
    expect(firstDifference(copy.picked!, expectedPicked(PYTHON_WEIGHTS))).toBe(-1);
    expect(firstDifference(copy.biased!, expectedSum(PYTHON_WEIGHTS[0]!, { t: PYTHON_BIAS.t, vector: true }, PYTHON_BIAS.length))).toBe(-1);
  }, 60_000);
});
