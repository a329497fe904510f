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
// the wall time — queueing, Redis round trips, result files, idle workers — as "dispatch".
//
//   npx nx run @modelpass/distributed:build
//   node tools/bench/distributed/run.mjs [--rounds 3] [--samples 2048] [--eval-samples 10000] [--shards 8] [--workers 1,2,4] [--write]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT, flag, median } from '../prune/ort-timing.mjs';

const { BullmqBackend, distributedStatisticsCollector, evaluateDistributed, probeRedis } = await import('@modelpass/distributed');
const { readOnnx } = await import('@modelpass/onnx');
const { collectStatistics, planStaticQuantization, prepareForQuantization } = await import('@modelpass/quantize');
const { evaluateAccuracy, loadDataset } = await import('@modelpass/runtime');

const MODEL = join(ROOT, 'fixtures/models/fashion-cnn/model.onnx');
const rounds = Number(flag('rounds', '3'));
const samples = Number(flag('samples', '2048'));
const evalSamples = Number(flag('eval-samples', '10000'));
const shards = Number(flag('shards', '8'));
const workerCounts = flag('workers', '1,2,4').split(',').map(Number);
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
const calibration = { method: 'percentile', dataset: 'fashion-mnist:train', samples };

const results = { calibrate: new Map(), eval: new Map() };
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
      await evaluateAccuracy(MODEL, loadDataset('fashion-mnist:test', { limit: evalSamples }), { limit: evalSamples });
      record(results.eval, config, { seconds: (performance.now() - started) / 1000 });
    } else {
      const result = await evaluateDistributed(backends.get(config), MODEL, 'fashion-mnist:test', { limit: evalSamples, shards });
      record(results.eval, config, { seconds: (performance.now() - started) / 1000, timing: { shards: result.shards, jobsSeconds: result.jobsSeconds, mergeSeconds: result.mergeSeconds, modelWriteSeconds: 0 } });
    }
    process.stderr.write(`round ${round + 1}/${rounds} ${config}: calibrate ${results.calibrate.get(config).at(-1).seconds.toFixed(2)} s, eval ${results.eval.get(config).at(-1).seconds.toFixed(2)} s\n`);
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
      phases = `${read.toFixed(2)} | ${compute.toFixed(2)} | ${(t.modelWriteSeconds + t.mergeSeconds).toFixed(3)} | ${Math.max(0, t.jobsSeconds - critical).toFixed(2)} | ${perWorker.size}`;
    } else phases = '– | – | – | – | 1 (this process)';
    lines.push(`| ${config === 'single' ? 'single process' : `${config} worker${config > 1 ? 's' : ''}`} | ${min.toFixed(2)} | ${med.toFixed(2)} | ${Math.round(count / min)} | ${(min / single).toFixed(2)}× | ${phases} |`);
  }
  return lines;
}

const header = '| run | min s | median s | samples/s (min) | time vs single | read s (Σ shards) | compute s (Σ shards) | model copy + merge s | dispatch s | workers used |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
const command = `node tools/bench/distributed/run.mjs --rounds ${rounds} --samples ${samples} --eval-samples ${evalSamples} --shards ${shards} --workers ${workerCounts.join(',')}`;
const text = [
  '# Distributed calibration and evaluation (BullMQ on redis-server, this machine)',
  '',
  `\`${command}\` — ${cpus().length} cores, load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' / ')}, ${rounds} interleaved rounds, ${new Date().toISOString().slice(0, 10)}.`,
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
  'Phases are those of the fastest run: read and compute add up every shard\'s time on its worker (with several',
  'workers they overlap); "dispatch" is the wall time of the jobs minus the busiest worker\'s job time (queueing,',
  'Redis round trips, result files, waiting for the last shard).',
  '',
].join('\n');
process.stdout.write(text);
if (process.argv.includes('--write')) writeFileSync(join(ROOT, 'tools/bench/distributed/RESULTS.md'), text);
