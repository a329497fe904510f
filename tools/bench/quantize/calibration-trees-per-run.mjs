#!/usr/bin/env node
// Per-run CPU of the calibration's histogram work in two (or more) built trees, in one process (issue 9, s16): each
// tree's own @modelpass packages are imported side by side, and rounds alternate between them and a min/max graph, so
// a busy machine slows them alike (separate processes at load 10+ did not compare). Per round and tree: the ORT run
// of the histogram graph of every op output (fashion-resnet: 21 tensors) on the same 8 real training images, then
// folding the run into `HistogramStatistics` the way that tree's calibration does — `runKeeping` + `keep` +
// `release` where the tree has it (counts kept in the counter across runs, s16), else `run` + `addBinned` (s15).
// Reported: CPU ms per run (median after 3 warm-up rounds), × the min/max run, and whether every tree's histograms
// were identical at the end. V8's collections of what a tree leaves behind are not forced here (a whole
// calibration's `YoungGarbage` is), so this is the run's own work, not a calibration's.
//
//   tools/bench/tflite/freeze-tree.sh <commit> <dir> && (cd <dir>/packages/quantize && npx tsc -b)   # per tree
//   node tools/bench/quantize/calibration-trees-per-run.mjs --trees DIR,DIR [--model fixtures/models/fashion-resnet/model.onnx]
//     [--dataset fashion-mnist:train] [--samples-per-run 8] [--rounds 60]
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, flag, median } from '../prune/ort-timing.mjs';

const CALIBRATED_OPS = ['onnx.Conv', 'onnx.Gemm', 'onnx.MatMul', 'onnx.Relu', 'onnx.MaxPool', 'onnx.AveragePool', 'onnx.GlobalAveragePool', 'onnx.Add'];
const trees = flag('trees', '').split(',').filter(Boolean).map((tree) => resolve(tree));
if (trees.length === 0) throw new Error('calibration-trees-per-run.mjs: --trees DIR,DIR (built copies, see the header) is required');
const modelPath = join(ROOT, flag('model', 'fixtures/models/fashion-resnet/model.onnx'));
const perRun = Number(flag('samples-per-run', '8'));
const rounds = Number(flag('rounds', '60'));
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e3;
};

const loaded = [];
for (const tree of trees) {
  const load = (name) => import(pathToFileURL(join(tree, 'node_modules/@modelpass', name, 'dist/index.js')).href);
  const { readOnnx } = await load('onnx');
  const quantize = await load('quantize');
  const model = readOnnx(modelPath);
  const values = model.graph.nodeList().filter((node) => CALIBRATED_OPS.includes(node.op)).map((node) => node.outputs[0]);
  const graph = await quantize.StatisticsGraph.open(model, values, 2048);
  const statistics = new Map(values.map((value) => [value.name, new quantize.HistogramStatistics(2048)]));
  loaded.push({ tree, quantize, readOnnx, graph, statistics, keeping: typeof graph.runKeeping === 'function', ort: [], fold: [] });
}
const first = loaded.at(-1);
const minmaxModel = first.readOnnx(modelPath);
const minmax = await first.quantize.StatisticsGraph.open(minmaxModel, minmaxModel.graph.nodeList().filter((node) => CALIBRATED_OPS.includes(node.op)).map((node) => node.outputs[0]), undefined);
let feeds;
for await (const batch of first.quantize.openCalibrationData(first.readOnnx(modelPath), { dataset: flag('dataset', 'fashion-mnist:train'), samples: perRun, batchSize: perRun, cwd: ROOT })) {
  feeds = batch.feeds;
  break;
}

const minmaxCpu = [];
for (let round = 0; round < rounds + 3; round++) {
  const before = cpuMs();
  await minmax.run(feeds, new Map());
  if (round >= 3) minmaxCpu.push(cpuMs() - before);
  for (const t of loaded) {
    const widths = new Map([...t.statistics].map(([name, s]) => [name, Math.max(s.width, t.keeping ? t.graph.keptWidth(name) : 0)]));
    const start = cpuMs();
    if (t.keeping) {
      const run = await t.graph.runKeeping(feeds, widths);
      const ran = cpuMs();
      for (const [name, s] of run.summaries) {
        t.statistics.get(name).addExtremes(s.min, s.max, s.size);
        run.keep(name, t.statistics.get(name));
      }
      run.release();
      if (round >= 3) (t.ort.push(ran - start), t.fold.push(cpuMs() - ran));
    } else {
      const summaries = await t.graph.run(feeds, widths);
      const ran = cpuMs();
      for (const [name, s] of summaries) t.statistics.get(name).addBinned(s.width, s.counts, s.min, s.max, s.size, s.firstBin, s.size);
      if (round >= 3) (t.ort.push(ran - start), t.fold.push(cpuMs() - ran));
    }
  }
}
for (const t of loaded) if (t.keeping) t.graph.flush();
const json = (t) => JSON.stringify([...t.statistics.values()].map((s) => s.toJSON()));
const same = loaded.every((t) => json(t) === json(loaded[0]));
const base = median(minmaxCpu);
console.log(`${rounds} rounds of ${perRun} samples, ${modelPath.replace(ROOT + '/', '')}, every op output; CPU ms per run, medians; min/max run ${base.toFixed(2)} ms`);
console.log('| tree | how | ORT run (ms) | fold-in (ms) | total (ms) | × minmax |');
console.log('|---|---|---:|---:|---:|---:|');
for (const t of loaded) {
  const total = t.ort.map((ms, k) => ms + t.fold[k]);
  console.log(`| ${t.tree} | ${t.keeping ? 'runKeeping + keep + release (ORT run: counting included in fold-in)' : 'run + addBinned (ORT run: counting included)'} | ${median(t.ort).toFixed(2)} | ${median(t.fold).toFixed(2)} | ${median(total).toFixed(2)} | ${(median(total) / base).toFixed(2)} |`);
}
console.log(`histograms identical in every tree after ${rounds + 3} rounds: ${same}`);
for (const t of loaded) await t.graph.dispose();
await minmax.dispose();
