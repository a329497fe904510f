#!/usr/bin/env node
// Calibration's ORT intra-op threads (issue 9): whole calibrations (collectStatistics) of minmax and a
// histogram method with 1 and with 2 intra-op threads, in one process, configurations interleaved
// round by round (so a busy machine slows them alike). Per configuration: CPU (all threads) and wall
// time, the share spent inside StatisticsGraph.run (ORT's run plus reading its outputs, the
// JavaScript counting of histogram bin indices included), and V8's garbage collections (count and
// milliseconds, forced minor ones included). Medians over the rounds after one warm-up round.
//
//   npx tsc -b packages/quantize
//   node tools/bench/quantize/calibration-threads.mjs [--model fixtures/models/fashion-resnet/model.onnx]
//     [--samples 2000] [--rounds 5] [--method percentile] [--threads 1,2] [--tensors ops | plan]
import { PerformanceObserver } from 'node:perf_hooks';
import { join } from 'node:path';
import { ROOT, flag, median } from '../prune/ort-timing.mjs';

const CALIBRATED_OPS = ['onnx.Conv', 'onnx.Gemm', 'onnx.MatMul', 'onnx.Relu', 'onnx.MaxPool', 'onnx.AveragePool', 'onnx.GlobalAveragePool', 'onnx.Add'];
const { readOnnx } = await import('@modelpass/onnx');
const quantize = await import('@modelpass/quantize');
const { CALIBRATION_SESSION_OPTIONS, StatisticsGraph, collectStatistics, prepareForQuantization, planStaticQuantization } = quantize;

const modelPath = join(ROOT, flag('model', 'fixtures/models/fashion-resnet/model.onnx'));
const samples = Number(flag('samples', '2000'));
const rounds = Number(flag('rounds', '5'));
const threadCounts = flag('threads', '1,2').split(',').map(Number);
const plan = flag('tensors', 'ops') === 'plan';
const model = readOnnx(modelPath);
if (plan) await prepareForQuantization(model);
const tensors = plan ? planStaticQuantization(model).calibrationTensors : model.graph.nodeList().filter((n) => CALIBRATED_OPS.includes(n.op)).map((n) => n.outputs[0].name);

// Time inside StatisticsGraph.run, and V8's collections.
const inRun = { cpu: 0 };
const run = StatisticsGraph.prototype.run;
StatisticsGraph.prototype.run = async function (...args) {
  const before = process.cpuUsage();
  try {
    return await run.apply(this, args);
  } finally {
    const used = process.cpuUsage(before);
    inRun.cpu += used.user + used.system;
  }
};
const gcs = { count: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcs.count++;
    gcs.ms += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

const configs = ['minmax', flag('method', 'percentile')].flatMap((method) => threadCounts.map((threads) => ({ method, threads, key: `${method}, ${threads} thread${threads === 1 ? '' : 's'}` })));
const results = new Map(configs.map((c) => [c.key, []]));
for (let round = 0; round <= rounds; round++) {
  for (const config of configs) {
    CALIBRATION_SESSION_OPTIONS.intraOpNumThreads = config.threads;
    inRun.cpu = 0;
    gcs.count = 0;
    gcs.ms = 0;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await collectStatistics(model, tensors, { method: config.method, dataset: 'fashion-mnist:train', samples, batchSize: 64, warn: () => {} });
    const cpu = process.cpuUsage(cpuBefore);
    await new Promise((resolve) => setImmediate(resolve)); // let the GC observer report
    if (round > 0) results.get(config.key).push({ cpu: (cpu.user + cpu.system) / 1e6, wall: (performance.now() - started) / 1000, inRun: inRun.cpu / 1e6, gcCount: gcs.count, gcMs: gcs.ms });
  }
}
const summary = (key, field) => median(results.get(key).map((r) => r[field]));
console.log(`${modelPath.replace(ROOT + '/', '')}, ${tensors.length} tensors${plan ? " (quantize-static's plan)" : ''}, ${samples} samples, ${rounds} interleaved rounds in one process (medians):`);
console.log('| configuration | CPU (s) | wall (s) | CPU in StatisticsGraph.run (s) | GCs | GC (ms) | each round\'s CPU (s) |');
console.log('|---|---:|---:|---:|---:|---:|---|');
for (const { key } of configs) {
  console.log(`| ${key} | ${summary(key, 'cpu').toFixed(2)} | ${summary(key, 'wall').toFixed(2)} | ${summary(key, 'inRun').toFixed(2)} | ${summary(key, 'gcCount')} | ${summary(key, 'gcMs').toFixed(0)} | ${results.get(key).map((r) => r.cpu.toFixed(2)).join(', ')} |`);
}
const method = configs.at(-1).method;
for (const h of threadCounts) for (const m of threadCounts) {
  const a = `${method}, ${h} thread${h === 1 ? '' : 's'}`;
  const b = `minmax, ${m} thread${m === 1 ? '' : 's'}`;
  console.log(`${a} / ${b}: CPU ${(summary(a, 'cpu') / summary(b, 'cpu')).toFixed(2)}×, wall ${(summary(a, 'wall') / summary(b, 'wall')).toFixed(2)}×`);
}
