// Rerunnable benchmark of an ONNX model over 2 GiB, built in code: write (weights go to a 4096-aligned
// external data file on their own), lazy read back, ONNX Runtime load + run, then a copy (read +
// write to a new path) side by side with Python onnx's load + save and cp. Each step runs in its own
// process under /usr/bin/time -v, so the peak RSS it reports is that step's alone.
// usage: node tools/bench/onnx-io/large-model.mjs [--repeat 3] [--dir /tmp/modelpass-bench-large] [--keep]
//        (the steps: node large-model.mjs --step write|read|ort|copy DIR)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statfsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTimeV } from './time-v.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '../../..');
const args = process.argv.slice(2);
const PYTHON = '/usr/bin/python3';
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};

// The model: three float32 weights of 768 MiB each (2.25 GiB), a Gather of three rows from each,
// the rows concatenated, and a Slice of one added to another. Element i of weight t holds the
// float32 whose bits are patternWord(t, i): finite, different at every position within 2^23
// elements, and the 2^23-element block number shows in the exponent.
const WEIGHTS = [
  { name: 'w0', shape: [196608, 1024] },
  { name: 'w1', shape: [98304, 2048] },
  { name: 'w2', shape: [786432, 256] },
];
const SLICE_WIDTH = 256;

function patternWord(t, i) {
  return (((127 + ((t * 7 + Math.floor(i / 8388608)) % 20)) << 23) | (i & 0x7fffff)) >>> 0;
}

function patternFloat(t, i) {
  const cell = new Uint32Array([patternWord(t, i)]);
  return new Float32Array(cell.buffer)[0];
}

function rowsFor(rowCount) {
  return [0, Math.floor(rowCount / 2) + 1, rowCount - 1];
}

async function buildModel() {
  const { ComputedStorage, GraphBuilder, Tensor, attrs, tensorType } = await import('@modelpass/ir');
  /** Bytes computed chunk by chunk (readChunk), so the writer never holds a whole weight. */
  class PatternStorage extends ComputedStorage {
    constructor(t, byteLength) {
      super(byteLength, () => this.fill(new Uint8Array(byteLength), 0), `pattern${t}`);
      this.t = t;
    }
    readChunk(target, start) {
      this.fill(target, start);
    }
    fill(target, start) {
      const words = new Uint32Array(target.buffer, target.byteOffset, target.byteLength / 4);
      const first = start / 4;
      for (let k = 0; k < words.length; k++) words[k] = patternWord(this.t, first + k);
      return target;
    }
  }
  const b = new GraphBuilder();
  const gathered = WEIGHTS.map(({ name, shape }, t) => {
    const weight = b.constant(Tensor.fromStorage('float32', shape, new PatternStorage(t, shape[0] * shape[1] * 4)), name);
    const rows = b.input(`rows${t}`, tensorType('int64', [3]));
    return b.op1('onnx.Gather', [weight, rows], { axis: attrs.int(0) }, { types: [tensorType('float32', [3, shape[1]])] });
  });
  const width = WEIGHTS.reduce((sum, w) => sum + w.shape[1], 0);
  const picked = b.op1('onnx.Concat', gathered, { axis: attrs.int(1) }, { outputs: ['picked'], types: [tensorType('float32', [3, width])] });
  const int64 = (name, value) => b.constant(Tensor.fromValues('int64', [1], [value]), name);
  const head = b.op1('onnx.Slice', [gathered[0], int64('starts', 0), int64('ends', SLICE_WIDTH), int64('axes', 1)], {}, { types: [tensorType('float32', [3, SLICE_WIDTH])] });
  const sum = b.op1('onnx.Add', [head, gathered[2]], {}, { outputs: ['sum'], types: [tensorType('float32', [3, SLICE_WIDTH])] });
  b.output(picked, sum);
  const model = b.model({ onnx: 17 });
  model.irVersion = 8;
  return model;
}

function expectedOutputs() {
  const width = WEIGHTS.reduce((sum, w) => sum + w.shape[1], 0);
  const picked = new Float32Array(3 * width);
  const sum = new Float32Array(3 * SLICE_WIDTH);
  for (let r = 0; r < 3; r++) {
    let column = 0;
    WEIGHTS.forEach(({ shape }, t) => {
      const row = rowsFor(shape[0])[r];
      for (let c = 0; c < shape[1]; c++) picked[r * width + column + c] = patternFloat(t, row * shape[1] + c);
      column += shape[1];
    });
    const row0 = rowsFor(WEIGHTS[0].shape[0])[r];
    const row2 = rowsFor(WEIGHTS[2].shape[0])[r];
    for (let c = 0; c < SLICE_WIDTH; c++) {
      sum[r * SLICE_WIDTH + c] = Math.fround(patternFloat(0, row0 * WEIGHTS[0].shape[1] + c) + patternFloat(2, row2 * WEIGHTS[2].shape[1] + c));
    }
  }
  return { picked, sum };
}

function report(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function step(name, dir) {
  const onnxModule = join(repo, 'packages/onnx/dist/index.js');
  const { readOnnx, writeOnnx } = await import(onnxModule);
  const path = join(dir, 'large.onnx');
  const started = performance.now();
  if (name === 'write') {
    const model = await buildModel();
    writeOnnx(model, path);
    report({ seconds: (performance.now() - started) / 1000 });
  } else if (name === 'read') {
    const model = readOnnx(path);
    const seconds = (performance.now() - started) / 1000;
    // Touch one 4 KiB sample in the middle of each weight through the lazy storage.
    let checked = 0;
    for (const value of model.graph.constants) {
      const storage = value.constant.storage;
      if (storage.byteLength < 1 << 20) continue;
      const sample = new Uint8Array(4096);
      const start = Math.floor(storage.byteLength / 8192) * 4096;
      storage.readChunk(sample, start);
      const t = WEIGHTS.findIndex((w) => w.name === value.name);
      const words = new Uint32Array(sample.buffer);
      for (let k = 0; k < words.length; k++) if (words[k] !== patternWord(t, start / 4 + k)) throw new Error(`${value.name}: wrong byte at ${start + 4 * k}`);
      checked++;
    }
    report({ seconds, checked });
  } else if (name === 'ort') {
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(path, { logSeverityLevel: 3 });
    const loaded = (performance.now() - started) / 1000;
    const feeds = {};
    WEIGHTS.forEach(({ shape }, t) => (feeds[`rows${t}`] = new ort.Tensor('int64', BigInt64Array.from(rowsFor(shape[0]).map(BigInt)), [3])));
    const runStarted = performance.now();
    const outputs = await session.run(feeds);
    const ran = (performance.now() - runStarted) / 1000;
    const expected = expectedOutputs();
    for (const key of ['picked', 'sum']) {
      const got = outputs[key].data;
      const want = expected[key];
      if (got.length !== want.length) throw new Error(`${key}: ${got.length} elements, expected ${want.length}`);
      for (let k = 0; k < want.length; k++) if (!Object.is(got[k], want[k])) throw new Error(`${key}[${k}] = ${got[k]}, expected ${want[k]}`);
    }
    await session.release();
    report({ seconds: loaded, runSeconds: ran });
  } else if (name === 'copy') {
    writeOnnx(readOnnx(path), join(dir, 'copy.onnx'));
    report({ seconds: (performance.now() - started) / 1000 });
  }
}

const PYTHON_COPY = [
  'import sys, onnx',
  'model = onnx.load(sys.argv[1])',
  "onnx.save_model(model, sys.argv[2], save_as_external_data=True, all_tensors_to_one_file=True, location='pycopy.onnx.data')",
].join('\n');

/** Runs a command under /usr/bin/time -v; a node step reports its own timings as a JSON line. */
function timed(command, commandArgs) {
  spawnSync('sync');
  const result = spawnSync('/usr/bin/time', ['-v', command, ...commandArgs], { encoding: 'utf8', cwd: repo });
  if (result.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  const { seconds: processSeconds, rssMB } = parseTimeV(result.stderr);
  const own = command === process.execPath ? JSON.parse(result.stdout.trim().split('\n').pop()) : { seconds: processSeconds };
  return { ...own, processSeconds, rssMB };
}

const measured = (stepName, dir) => timed(process.execPath, [fileURLToPath(import.meta.url), '--step', stepName, dir]);

/** Removes the copy a step made (its blocks are freed now, not during the next step). */
function removeCopies(dir) {
  for (const name of readdirSync(dir)) if (name.startsWith('copy.') || name.startsWith('pycopy.')) rmSync(join(dir, name));
  spawnSync('sync');
}

async function main() {
  const dir = option('dir', '/tmp/modelpass-bench-large');
  const keep = args.includes('--keep');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const { bavail, bsize } = statfsSync(dir);
  const freeGB = (bavail * bsize) / 1e9;
  if (freeGB < 6) throw new Error(`${dir}: ${freeGB.toFixed(1)} GB free, the benchmark needs about 6 GB (the model and one copy)`);
  console.error('building @modelpass/onnx dist ...');
  execFileSync('npx', ['tsc', '-b', 'packages/onnx'], { cwd: repo, stdio: 'inherit' });
  const repeat = Number(option('repeat', '1'));
  try {
    /** One round of every step; the model is written anew (its old files removed first) each round. */
    const round = () => {
      for (const name of readdirSync(dir)) rmSync(join(dir, name));
      const write = measured('write', dir);
      const files = readdirSync(dir).sort();
      const read = measured('read', dir);
      const ortRun = measured('ort', dir);
      const copy = measured('copy', dir);
      const copyFiles = readdirSync(dir).filter((name) => name.startsWith('copy.')).sort();
      removeCopies(dir);
      const python = timed(PYTHON, ['-c', PYTHON_COPY, join(dir, 'large.onnx'), join(dir, 'pycopy.onnx')]);
      removeCopies(dir);
      const cp = timed('cp', [join(dir, 'large.onnx.data'), join(dir, 'copy.data')]);
      removeCopies(dir);
      return {
        files,
        steps: [
          ['write (writeOnnx, externalData auto)', write],
          ['read (readOnnx + one 4 KiB sample per weight)', read],
          [`ORT session create (+ run ${(ortRun.runSeconds * 1000).toFixed(1)} ms)`, ortRun],
          [`copy: readOnnx + writeOnnx to a new path (${copyFiles.join(', ')})`, copy],
          ['copy: Python onnx.load + save_model (external data, one file)', python],
          ['copy: cp of the data file', cp],
        ],
      };
    };
    const rounds = Array.from({ length: repeat }, round);
    const median = (values) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
    const weightsGiB = WEIGHTS.reduce((sum, w) => sum + w.shape[0] * w.shape[1] * 4, 0) / 2 ** 30;
    const modelBytes = statSync(join(dir, 'large.onnx')).size;
    const dataBytes = statSync(join(dir, 'large.onnx.data')).size;
    console.log(`model: ${weightsGiB.toFixed(2)} GiB of weights; files: ${rounds[0].files.join(', ')}; .onnx ${modelBytes} bytes, data ${dataBytes} bytes`);
    console.log(`median of ${repeat} round(s); peak RSS: the largest`);
    console.log('| step | step s | process s | peak RSS MB |');
    console.log('|---|---|---|---|');
    rounds[0].steps.forEach(([name], k) => {
      const runs = rounds.map((r) => r.steps[k][1]);
      const seconds = median(runs.map((r) => r.seconds));
      const processSeconds = median(runs.map((r) => r.processSeconds));
      const rss = Math.max(...runs.map((r) => r.rssMB));
      console.log(`| ${name} | ${seconds.toFixed(2)} | ${processSeconds.toFixed(2)} | ${rss.toFixed(0)} |`);
    });
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (args[0] === '--step') await step(args[1], args[2]);
else await main();
