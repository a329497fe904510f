#!/usr/bin/env node
// Calibration memory and time (issue 9): peak RSS of a whole calibration run is flat in the number
// of samples (inputs are streamed, activations folded into statistics batch by batch), and
// percentile/entropy/distribution take no more than 2x minmax's time.
//
// Each (method, samples) point runs in a fresh Node process (so its peak RSS is its own): it reads
// the model, then `calibrate(model, every Conv/Gemm/MatMul/Relu/pool/Add output, { dataset })`. Reported:
// peak RSS (process.resourceUsage().maxRSS), RSS just before calibrating, the calibration's wall
// and CPU time (CPU time, all threads, is the fairer ratio on a shared machine), and what holding
// every activation of every sample would take instead.
//
//   npx tsc -b packages/quantize      (the bench imports the built @modelpass/quantize)
//   node tools/bench/quantize/calibration-memory.mjs [--model fixtures/models/fashion-resnet/model.onnx]
//     [--dataset fashion-mnist:train | random (seeded random inputs)] [--samples 100,500,1000,2000] [--methods minmax,percentile,entropy,distribution]
//     [--batch 64] [--tensors ops | plan (quantize-static's calibrationTensors, BatchNorm folded)] [--repeat 3] [--json FILE] [--out FILE.md (the table, with this command)]
//     [--node-flags '--max-semi-space-size=1' (diagnostic: flags for the child processes)]
//     [--histogram-stride N (the histogram methods' CalibrationOptions.histogramStride; unset: the package's default)]
//     [--trees DIR,DIR (built copies to compare, e.g. from tools/bench/tflite/freeze-tree.sh + tsc -b packages/quantize;
//      each child process imports that copy's packages; trees alternate process by process, methods interleaved in each)]
//
// With --trees each row is one tree's, × minmax against that tree's own minmax, and each child also reports a
// SHA-256 of its statistics (statisticsToJSON: every count, width, min, max) and ranges: the table says whether every
// tree gave the same bytes for each method and sample count.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ROOT, flag, median } from '../prune/ort-timing.mjs';

const CALIBRATED_OPS = ['onnx.Conv', 'onnx.Gemm', 'onnx.MatMul', 'onnx.Relu', 'onnx.MaxPool', 'onnx.AveragePool', 'onnx.GlobalAveragePool', 'onnx.Add'];

/** A workspace package: this checkout's, or with --tree that built copy's. */
const importPackage = (name) => (flag('tree', '') === '' ? import(`@modelpass/${name}`) : import(pathToFileURL(join(flag('tree'), 'node_modules/@modelpass', name, 'dist/index.js')).href));

async function child() {
  const { readOnnx } = await importPackage('onnx');
  const { collectStatistics, chooseRanges, statisticsToJSON, MinMaxStatistics, prepareForQuantization, planStaticQuantization } = await importPackage('quantize');
  const model = readOnnx(flag('model'));
  // --tensors plan: what quantize-static calibrates (BatchNorm folded, its plan's calibrationTensors) instead of every op output listed above.
  if (flag('tensors') === 'plan') await prepareForQuantization(model);
  const tensors = flag('tensors') === 'plan' ? planStaticQuantization(model).calibrationTensors : model.graph.nodeList().filter((node) => CALIBRATED_OPS.includes(node.op)).map((node) => node.outputs[0].name);
  // --dataset random: calibration's seeded random inputs (for models without a dataset here, e.g. the torchvision nets).
  const dataset = flag('dataset') === 'random' ? undefined : flag('dataset');
  const stride = flag('histogram-stride', '');
  const options = { method: flag('method'), dataset, samples: Number(flag('samples')), batchSize: Number(flag('batch')), ...(stride !== '' && flag('method') !== 'minmax' ? { histogramStride: Number(stride) } : {}), warn: () => {} };
  const rssBefore = process.memoryUsage().rss;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  // calibrate() is these two calls; they are split here only to count the values folded in.
  const statistics = await collectStatistics(model, tensors, options);
  const collected = performance.now();
  const ranges = chooseRanges(statistics, options);
  const seconds = (performance.now() - started) / 1000;
  const chooseSeconds = (performance.now() - collected) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  let values = 0;
  for (const s of statistics.tensors.values()) values += (s instanceof MinMaxStatistics ? s : s.extremes).count;
  const digest = createHash('sha256').update(JSON.stringify(statisticsToJSON(statistics).tensors)).update(JSON.stringify([...ranges])).digest('hex').slice(0, 16);
  process.stdout.write(JSON.stringify({ digest, collection: { inGraph: statistics.collection?.inGraph.length ?? 0, fromValues: statistics.collection?.fromValues.length ?? 0, recollected: statistics.collection?.recollected ?? 0 }, seconds, cpuSeconds, chooseSeconds, rssBeforeMB: rssBefore / 2 ** 20, peakRssMB: process.resourceUsage().maxRSS / 1024, tensors: tensors.length, ranges: ranges.size, activationBytes: 4 * values }));
}

async function main() {
  const model = resolve(ROOT, flag('model', 'fixtures/models/fashion-cnn/model.onnx'));
  const dataset = flag('dataset', 'fashion-mnist:train');
  const sampleCounts = flag('samples', '100,500,1000,2000').split(',').map(Number);
  const methods = flag('methods', 'minmax,percentile,entropy,distribution').split(',');
  const batch = flag('batch', '64');
  const repeat = Number(flag('repeat', '3'));
  const trees = flag('trees', '') === '' ? [''] : flag('trees').split(',').map((tree) => resolve(tree));
  const treeName = (tree) => (tree === '' ? 'this checkout' : tree);
  const script = fileURLToPath(import.meta.url);
  // Diagnostics only (a user's process runs with none): e.g. --node-flags=--max-semi-space-size=1 pins V8's young generation.
  const nodeFlags = flag('node-flags', '').split(' ').filter(Boolean);
  const rows = [];
  const runChild = (samples, method, tree) =>
    JSON.parse(execFileSync(process.execPath, [...nodeFlags, script, '--child', ...(tree === '' ? [] : ['--tree', tree]), '--model', model, '--dataset', dataset, '--samples', String(samples), '--method', method, '--batch', batch, '--tensors', flag('tensors', 'ops'), ...(flag('histogram-stride', '') !== '' ? ['--histogram-stride', flag('histogram-stride')] : [])], { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 << 20 }));
  for (const samples of sampleCounts) {
    // Trees alternate process by process and methods are interleaved run by run, so a busy machine slows them alike.
    const runs = new Map(trees.flatMap((tree) => methods.map((method) => [`${tree}|${method}`, []])));
    for (let r = 0; r < repeat; r++) for (const tree of trees) for (const method of methods) runs.get(`${tree}|${method}`).push(runChild(samples, method, tree));
    for (const tree of trees) for (const method of methods) {
      const own = runs.get(`${tree}|${method}`);
      // Peak RSS per process swings by ~20 MB with when V8 happens to collect the garbage of the
      // ORT runs (no gc() is called: a user's process does not either), so a point is the median
      // of its repeats' peaks, with the largest beside it.
      const peaks = own.map((r) => r.peakRssMB);
      const digests = new Set(own.map((r) => r.digest));
      const row = { tree, samples, method, seconds: median(own.map((r) => r.seconds)), minSeconds: Math.min(...own.map((r) => r.seconds)), cpuSeconds: median(own.map((r) => r.cpuSeconds)), cpus: own.map((r) => r.cpuSeconds), chooseSeconds: median(own.map((r) => r.chooseSeconds)), peakRssMB: median(peaks), maxPeakRssMB: Math.max(...peaks), peaksMB: peaks.map((p) => Math.round(p)), rssBeforeMB: median(own.map((r) => r.rssBeforeMB)), tensors: own[0].tensors, collection: own[0].collection, heldMB: own[0].activationBytes / 2 ** 20, digest: digests.size === 1 ? [...digests][0] : undefined };
      rows.push(row);
      process.stderr.write(`${trees.length > 1 ? `${treeName(tree)} ` : ''}${method} ${samples}: ${row.seconds.toFixed(2)} s, peak RSS ${row.peakRssMB.toFixed(0)} MB\n`);
    }
  }
  const minmax = (r) => rows.find((m) => m.tree === r.tree && m.samples === r.samples && m.method === 'minmax');
  const ratio = (r, key) => (minmax(r) ? (r[key] / minmax(r)[key]).toFixed(2) : '–');
  // CPU × minmax of each repeat (the k-th process of the method against the k-th minmax process of the same tree and samples).
  const ratios = (r) => (minmax(r) ? r.cpus.map((cpu, k) => (cpu / minmax(r).cpus[k]).toFixed(2)).join(', ') : '–');
  const same = (r) => {
    const others = rows.filter((o) => o.samples === r.samples && o.method === r.method);
    return others.every((o) => o.digest !== undefined && o.digest === r.digest) ? 'same' : 'DIFFERENT';
  };
  const lines = [
    `Calibration of ${model.replace(ROOT + '/', '')} on ${dataset} (batch ${batch}, ${rows[0]?.tensors} tensors${flag('tensors') === 'plan' ? " (quantize-static's plan, BatchNorm folded)" : ''}, ${rows.map((r) => r.collection?.inGraph ?? 0).join('/') === rows.map((r) => r.tensors).join('/') ? 'all summarized inside ORT' : 'summarized inside ORT per row: ' + rows.map((r) => r.collection?.inGraph ?? 0).join('/')}${nodeFlags.length ? `; child processes run with node ${nodeFlags.join(' ')}` : ''}; histogram stride ${flag('histogram-stride', 'the default')}; ${repeat} fresh processes per point, methods interleaved run by run${trees.length > 1 ? `, trees alternating process by process` : ''}; times and peak RSS are medians, the largest peak beside it)`,
    '',
    `| ${trees.length > 1 ? 'tree | ' : ''}samples | method | wall (s) | × minmax | CPU (s) | × minmax | CPU × minmax, each repeat | of which choosing ranges (s) | peak RSS (MB), median (max) | each run\'s peak (MB) | RSS before calibrating (MB) | all activations held would be (MB) | statistics and ranges |`,
    `|${trees.length > 1 ? '---|' : ''}---:|---|---:|---:|---:|---:|---|---:|---:|---|---:|---:|---|`,
    ...rows.map((r) => `| ${trees.length > 1 ? `${treeName(r.tree)} | ` : ''}${r.samples} | ${r.method} | ${r.seconds.toFixed(2)} | ${ratio(r, 'seconds')} | ${r.cpuSeconds.toFixed(2)} | ${ratio(r, 'cpuSeconds')} | ${ratios(r)} | ${r.chooseSeconds.toFixed(3)} | ${r.peakRssMB.toFixed(0)} (${r.maxPeakRssMB.toFixed(0)}) | ${r.peaksMB.join(', ')} | ${r.rssBeforeMB.toFixed(0)} | ${r.heldMB.toFixed(0)} | ${r.digest ?? 'differ between repeats'}${trees.length > 1 ? ` (${same(r)} in every tree)` : ''} |`),
  ];
  for (const tree of trees) for (const method of methods) {
    const own = rows.filter((r) => r.tree === tree && r.method === method);
    const delta = (key) => (own.at(-1)[key] - own[0][key] >= 0 ? '+' : '') + (own.at(-1)[key] - own[0][key]).toFixed(0);
    if (own.length > 1) lines.push('', `${trees.length > 1 ? `${treeName(tree)}, ` : ''}${method}: peak RSS (median) ${own[0].peakRssMB.toFixed(0)} MB at ${own[0].samples} samples, ${own.at(-1).peakRssMB.toFixed(0)} MB at ${own.at(-1).samples} (${delta('peakRssMB')} MB, ${(100 * (own.at(-1).peakRssMB / own[0].peakRssMB - 1)).toFixed(1)}%, for ${own.at(-1).samples / own[0].samples}× the samples; largest peaks ${delta('maxPeakRssMB')} MB)`);
  }
  console.log(lines.join('\n'));
  const out = flag('out');
  if (out) {
    const command = `node tools/bench/quantize/calibration-memory.mjs ${process.argv.slice(2).join(' ')}`;
    writeFileSync(out, [`# Calibration memory and time`, '', `Command: \`${command}\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} cores (load average ${os.loadavg()[0].toFixed(1)} at the end).`, '', ...lines, ''].join('\n'));
  }
  const json = flag('json');
  if (json) writeFileSync(json, JSON.stringify({ model, dataset, batch: Number(batch), repeat, rows }, null, 2));
}

await (process.argv.includes('--child') ? child() : main());
