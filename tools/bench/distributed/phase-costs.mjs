#!/usr/bin/env node
// The fixed and per-sample costs the scaling model in packages/distributed/README.md is built from,
// measured in one process (median of --repeat): reading the model, opening the ORT session of a
// calibration shard, reading (decompressing, normalizing) Fashion-MNIST samples, running them,
// a statistics shard's JSON size and its merge, and one Redis round trip (PING on a fresh server).
//
//   npx nx run @modelpass/distributed:build
//   node tools/bench/distributed/phase-costs.mjs [--samples 2048] [--repeat 5]
import { spawn } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { ROOT, flag, median } from '../prune/ort-timing.mjs';

const { probeRedis } = await import('@modelpass/distributed');
const { readOnnx } = await import('@modelpass/onnx');
const { ActivationCollector, collectStatistics, mergeStatistics, openCalibrationData, planStaticQuantization, prepareForQuantization, statisticsFromJSON, statisticsToJSON } = await import('@modelpass/quantize');

const samples = Number(flag('samples', '2048'));
const repeat = Number(flag('repeat', '5'));
const MODEL = join(ROOT, 'fixtures/models/fashion-cnn/model.onnx');
const time = async (f) => {
  const xs = [];
  for (let i = 0; i < repeat; i++) {
    const t = performance.now();
    await f();
    xs.push(performance.now() - t);
  }
  return median(xs);
};

const model = readOnnx(MODEL);
await prepareForQuantization(model);
const tensors = planStaticQuantization(model).calibrationTensors;
const options = { method: 'percentile', dataset: 'fashion-mnist:train', samples };
const figures = {};
figures.readModelMs = await time(() => readOnnx(MODEL));
figures.openSessionMs = await time(async () => (await ActivationCollector.open(model, tensors)).dispose());
figures.readSamplesMs = await time(async () => {
  for await (const batch of openCalibrationData(model, options)) void batch;
});
figures.collectMs = await time(() => collectStatistics(model, tensors, options));
const shard = await collectStatistics(model, tensors, { ...options, samples: 256 });
const json = JSON.stringify(statisticsToJSON(shard));
figures.shardJsonBytes = json.length;
figures.parseAndMergeMs = await time(() => mergeStatistics(statisticsFromJSON(JSON.parse(json)), statisticsFromJSON(JSON.parse(json))));

const port = await new Promise((r) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => r(port));
  });
});
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
for (let i = 0; ; i++) {
  try {
    await probeRedis(`redis://127.0.0.1:${port}`, 500);
    break;
  } catch (e) {
    if (i > 50) throw e;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const socket = createConnection({ host: '127.0.0.1', port });
await new Promise((r) => socket.once('connect', r));
const pings = [];
for (let i = 0; i < 200; i++) {
  const t = performance.now();
  await new Promise((r) => {
    socket.once('data', r);
    socket.write('PING\r\n');
  });
  pings.push(performance.now() - t);
}
figures.redisRoundTripMs = median(pings);
socket.end();
redis.kill('SIGTERM');
figures.readPerSampleUs = (1000 * figures.readSamplesMs) / samples;
figures.computePerSampleUs = (1000 * (figures.collectMs - figures.readSamplesMs - figures.openSessionMs)) / samples;
console.log(JSON.stringify({ samples, repeat, tensors: tensors.length, ...Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Number(v.toFixed(3))])) }, null, 2));
