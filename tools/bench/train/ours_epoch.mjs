#!/usr/bin/env node
// Our side of the training bench, in its own process (so its peak RSS is its own): one epoch of the
// Fashion-MNIST CNN with @modelpass/train's fit (training graph with the optimizer in it, one ORT
// session, batch statistics), then test accuracy. Prints one JSON line (cpu_seconds: the process's CPU time
// over the whole fit call, all threads, graph build and session creation included).
//
//   node tools/bench/train/ours_epoch.mjs MODEL.onnx THREADS BATCH LR SEED [OPTIMIZER]
import { readFileSync } from 'node:fs';
import { readOnnx } from '@modelpass/onnx';
import { evaluateAccuracy, loadFashionMnist } from '@modelpass/runtime';
import { fit } from '@modelpass/train';

function rssMiB() {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) / 1024;
}

const [path, threads, batch, lr, seed, optimizer = 'sgd', samples = '0'] = process.argv.slice(2);
const model = await readOnnx(path);
const train = loadFashionMnist({ split: 'train', ...(Number(samples) > 0 ? { limit: Number(samples) } : {}) });
const rssBefore = rssMiB();
let record;
const cpuBefore = process.cpuUsage();
const result = await fit(model, train, {
  epochs: 1, batchSize: Number(batch), lr: Number(lr), seed: Number(seed), threads: Number(threads),
  optimizer: optimizer === 'sgd' ? { kind: 'sgd', momentum: 0.9 } : { kind: 'adamw' },
  batchNormalization: 'batch-statistics', progressEvery: 1e9,
  onProgress: (event) => { if (event.kind === 'epoch') record = event.record; },
});
const cpu = process.cpuUsage(cpuBefore);
const { accuracy } = await evaluateAccuracy(result.model, loadFashionMnist({ split: 'test' }), { batchSize: 1000 });
console.log(JSON.stringify({
  seconds: record.seconds, cpu_seconds: (cpu.user + cpu.system) / 1e6, samples_per_second: record.samplesPerSecond, steps: result.steps, loss: record.loss, test_accuracy: accuracy,
  peak_rss_mib: process.resourceUsage().maxRSS / 1024, rss_before_training_mib: rssBefore, threads: Number(threads),
}));
