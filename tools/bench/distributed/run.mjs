#!/usr/bin/env node
// Distributed calibration and evaluation throughput (issue 16) with 1, 2 and 4 BullMQ workers on
// a real redis-server, beside the single-process run, interleaved round by round (single, 1, 2, 4
// workers, again …) so the load of this shared machine falls on every configuration alike.
//
// Each configuration has its own queue and its own worker processes (packages/distributed's
// dist/worker-main.js), all started up front, so a round switches configuration without starting
// processes. Calibration: quantize-static's statistics of fashion-cnn (percentile histograms of every
// tensor the plan calibrates), `--samples` Fashion-MNIST train images in `--shards` shards.
// Evaluation: top-1 counts on `--eval-samples` Fashion-MNIST test images in `--shards` shards.
// Per phase (from the jobs' own timing): reading (model + data, decompression, normalization),
// compute (ORT + statistics / counting), the coordinator's model copy and merge, and the rest of
// the wall time — queueing, Redis round trips, result files, idle workers — as "dispatch"; and the
// bytes the shards read from the dataset files (their `reads`: each shard reads only its range).
// `--data plain` runs on uncompressed IDX copies of Fashion-MNIST (written to a temporary folder),
// where shards seek to their first sample; the default `gzip` reads Debian's gzipped files, which
// cannot seek. Distillation (`--distill-samples N`, 0 to skip): `distill{…}` of fashion-cnn from
// fashion-resnet, one epoch, in this process against data-parallel rounds (`--train-shards` shards).
//
//   npx nx run @modelpass/distributed:build
//   node tools/bench/distributed/run.mjs [--rounds 3] [--samples 2048] [--eval-samples 10000] [--shards 8] [--workers 1,2,4] [--data gzip|plain] [--distill-samples 1024] [--train-shards 4] [--write]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createServer } from 'node:net';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT, flag, median } from '../prune/ort-timing.mjs';

const { BullmqBackend, defaultConvertEnvironment, distributedStatisticsCollector, distributedTrainingRunner, evaluateDistributed, probeRedis, withTrainingRunner } = await import('@modelpass/distributed');
const { readOnnx } = await import('@modelpass/onnx');
const { PassManager } = await import('@modelpass/pass-manager');
const { distillPasses } = await import('@modelpass/train');
const { collectStatistics, planStaticQuantization, prepareForQuantization } = await import('@modelpass/quantize');
const { evaluateAccuracy, loadDataset } = await import('@modelpass/runtime');

const MODEL = join(ROOT, 'fixtures/models/fashion-cnn/model.onnx');
const rounds = Number(flag('rounds', '3'));
const samples = Number(flag('samples', '2048'));
const evalSamples = Number(flag('eval-samples', '10000'));
const shards = Number(flag('shards', '8'));
const workerCounts = flag('workers', '1,2,4').split(',').map(Number);
const data = flag('data', 'gzip');
if (data !== 'gzip' && data !== 'plain') throw new Error(`--data takes gzip or plain, got '${data}'`);
const distillSamples = Number(flag('distill-samples', '1024'));
const trainShards = Number(flag('train-shards', '4'));
const TEACHER = join(ROOT, 'fixtures/models/fashion-resnet/model.onnx');
const WORKER_MAIN = join(ROOT, 'packages/distributed/dist/worker-main.js');

async function freePort() {
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

if (spawnSync('redis-server', ['--version']).error) throw new Error('redis-server is not installed (npm run setup)');
const port = await freePort();
const url = `redis://127.0.0.1:${port}`;
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
for (let i = 0; ; i++) {
  try {
    await probeRedis(url, 500);
    break;
  } catch (error) {
    if (i > 50) throw error;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const shared = mkdtempSync(join(tmpdir(), 'modelpass-bench-distributed-'));
/** The dataset spec of a Fashion-MNIST split: Debian's gzipped files, or uncompressed copies. */
function datasetOf(split) {
  if (data === 'gzip') return `fashion-mnist:${split}`;
  const prefix = split === 'test' ? 't10k' : 'train';
  const files = ['images-idx3-ubyte', 'labels-idx1-ubyte'].map((name) => {
    const file = join(shared, `${prefix}-${name}`);
    writeFileSync(file, gunzipSync(readFileSync(`/usr/share/datasets/fashion-mnist/${prefix}-${name}.gz`)));
    return file;
  });
  return `idx:${files.join(',')}`;
}
const TRAIN = datasetOf('train');
const TEST = datasetOf('test');
const children = [];
const backends = new Map();
for (const count of workerCounts) {
  const queue = `bench-${count}`;
  const started = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, [WORKER_MAIN, '--redis', url, '--queue', queue], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    started.push(new Promise((ready) => child.stdout.on('data', (chunk) => String(chunk).includes('worker ready') && ready())));
  }
  await Promise.all(started);
  backends.set(count, await BullmqBackend.connect({ redis: url, queue, sharedFolder: shared }));
}

// The model quantize-static calibrates and its tensors.
const model = readOnnx(MODEL);
await prepareForQuantization(model);
const tensors = planStaticQuantization(model).calibrationTensors;
const calibration = { method: 'percentile', dataset: TRAIN, samples };

const results = { calibrate: new Map(), eval: new Map(), distill: new Map() };

/** One epoch of distill{…} on the first `distillSamples` training images (in this process without a runner). */
async function distill(backend) {
  const student = readOnnx(MODEL);
  const environment = defaultConvertEnvironment();
  environment.passes.register(distillPasses, '@modelpass/train');
  const pipeline = `distill{teacher=${TEACHER} dataset="${TRAIN}" samples=${distillSamples} epochs=1 batch=64 lr=0.01 seed=1}`;
  const run = () => new PassManager({ environment }).run(student, pipeline);
  if (!backend) return run();
  let timing;
  await withTrainingRunner(distributedTrainingRunner({ backend, shards: trainShards, sharedFolder: shared, onRound: (round) => (timing = round) }), run);
  return { shards: timing.shards, jobsSeconds: timing.seconds, mergeSeconds: 0, modelWriteSeconds: 0 };
}
const record = (table, key, value) => table.set(key, [...(table.get(key) ?? []), value]);
const sum = (xs, f) => xs.reduce((a, x) => a + f(x), 0);

for (let round = 0; round < rounds; round++) {
  for (const config of ['single', ...workerCounts]) {
    // Calibration
    let started = performance.now();
    if (config === 'single') {
      await collectStatistics(model, tensors, calibration);
      record(results.calibrate, config, { seconds: (performance.now() - started) / 1000 });
    } else {
      let timing;
      await distributedStatisticsCollector({ backend: backends.get(config), shards, sharedFolder: shared, onTiming: (t) => (timing = t) })(model, tensors, calibration);
      record(results.calibrate, config, { seconds: (performance.now() - started) / 1000, timing });
    }
    // Evaluation
    started = performance.now();
    if (config === 'single') {
      await evaluateAccuracy(MODEL, loadDataset(TEST, { limit: evalSamples }), { limit: evalSamples });
      record(results.eval, config, { seconds: (performance.now() - started) / 1000 });
    } else {
      const result = await evaluateDistributed(backends.get(config), MODEL, TEST, { limit: evalSamples, shards });
      record(results.eval, config, { seconds: (performance.now() - started) / 1000, timing: { shards: result.shards, jobsSeconds: result.jobsSeconds, mergeSeconds: result.mergeSeconds, modelWriteSeconds: 0 } });
    }
    if (distillSamples > 0) {
      started = performance.now();
      const timing = await distill(config === 'single' ? undefined : backends.get(config));
      record(results.distill, config, { seconds: (performance.now() - started) / 1000, ...(config === 'single' ? {} : { timing }) });
    }
    process.stderr.write(`round ${round + 1}/${rounds} ${config}: calibrate ${results.calibrate.get(config).at(-1).seconds.toFixed(2)} s, eval ${results.eval.get(config).at(-1).seconds.toFixed(2)} s${distillSamples > 0 ? `, distill ${results.distill.get(config).at(-1).seconds.toFixed(2)} s` : ''}\n`);
  }
}

for (const backend of backends.values()) await backend.close();
for (const child of children) child.kill('SIGTERM');
redis.kill('SIGTERM');
rmSync(shared, { recursive: true, force: true });

function rows(table, count) {
  const lines = [];
  const single = Math.min(...table.get('single').map((r) => r.seconds));
  for (const [config, runs] of table) {
    const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const min = best.seconds;
    const med = median(runs.map((r) => r.seconds));
    let phases = '';
    if (best.timing) {
      const t = best.timing;
      const read = sum(t.shards, (s) => s.phases.read);
      const compute = sum(t.shards, (s) => s.phases.compute);
      const perWorker = new Map();
      for (const s of t.shards) perWorker.set(s.worker, (perWorker.get(s.worker) ?? 0) + s.seconds);
      const critical = Math.max(...perWorker.values());
      const readBytes = sum(t.shards, (s) => Object.values(s.reads ?? {}).reduce((a, r) => a + r.bytes, 0));
      phases = `${read.toFixed(2)} | ${(readBytes / 1e6).toFixed(2)} | ${compute.toFixed(2)} | ${(t.modelWriteSeconds + t.mergeSeconds).toFixed(3)} | ${Math.max(0, t.jobsSeconds - critical).toFixed(2)} | ${perWorker.size}`;
    } else phases = '– | – | – | – | – | 1 (this process)';
    lines.push(`| ${config === 'single' ? 'single process' : `${config} worker${config > 1 ? 's' : ''}`} | ${min.toFixed(2)} | ${med.toFixed(2)} | ${Math.round(count / min)} | ${(min / single).toFixed(2)}× | ${phases} |`);
  }
  return lines;
}

const header = '| run | min s | median s | samples/s (min) | time vs single | read s (Σ shards) | MB read from files (Σ shards) | compute s (Σ shards) | model copy + merge s | dispatch s | workers used |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
const command = `node tools/bench/distributed/run.mjs --rounds ${rounds} --samples ${samples} --eval-samples ${evalSamples} --shards ${shards} --workers ${workerCounts.join(',')} --data ${data} --distill-samples ${distillSamples} --train-shards ${trainShards}`;
const dataName = data === 'gzip' ? "Debian's gzipped Fashion-MNIST (cannot seek)" : 'uncompressed IDX copies of Fashion-MNIST (shards seek)';
const text = [
  '# Distributed calibration and evaluation (BullMQ on redis-server, this machine)',
  '',
  `\`${command}\` — ${cpus().length} cores, load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' / ')}, ${rounds} interleaved rounds, ${new Date().toISOString().slice(0, 10)}.`,
  '',
  `Data: ${dataName}.`,
  '',
  `## Calibration: fashion-cnn, quantize-static's ${tensors.length} tensors, percentile histograms, ${samples} Fashion-MNIST train images, ${shards} shards`,
  '',
  header,
  ...rows(results.calibrate, samples),
  '',
  `## Evaluation: fashion-cnn top-1 on ${evalSamples} Fashion-MNIST test images, ${shards} shards`,
  '',
  header,
  ...rows(results.eval, evalSamples),
  '',
  ...(distillSamples > 0
    ? [
      `## Distillation: distill{} of fashion-cnn from fashion-resnet, 1 epoch of ${distillSamples} train images (batch 64); workers: one round of ${trainShards} shards, weights averaged`,
      '',
      header,
      ...rows(results.distill, distillSamples),
      '',
    ]
    : []),
  'Phases are those of the fastest run: read and compute add up every shard\'s time on its worker (with several',
  'workers they overlap); "dispatch" is the wall time of the jobs minus the busiest worker\'s job time (queueing,',
  'Redis round trips, result files, waiting for the last shard).',
  '',
].join('\n');
process.stdout.write(text);
if (process.argv.includes('--write')) writeFileSync(join(ROOT, 'tools/bench/distributed/RESULTS.md'), text);
