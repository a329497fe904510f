#!/usr/bin/env node
// Entropy's KL range search alone, cold (s16 issue 9): what a calibration pays once per tensor in a fresh process.
//
//   node tools/bench/quantize/entropy-search-cold.mjs --trees DIR,DIR [--model fixtures/models/fashion-resnet/model.onnx]
//     [--samples 2000] [--processes 6] [--rounds 3]
//
// DIRs: built copies (tools/bench/tflite/freeze-tree.sh <commit> <dir>, then `npx tsc -b packages/quantize` in <dir>).
// The first tree collects the entropy histograms of every Conv/Gemm/MatMul/Relu/pool/Add output once (fashion-mnist:train)
// into a temporary JSON file; then each tree in turn (alternating, process by process) runs a fresh Node process that reads
// them and times `range('entropy')` over all tensors `--rounds` times: round 1 is the cold search, the last a warm one.
// CPU is process.cpuUsage (all threads: V8's background compiles count). Also checks that every tree gives the same
// thresholds, bit for bit, for 3, 7, 64, 100, 127, 128, 255, 256 and 1000 levels on every histogram.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ROOT, flag, median } from '../prune/ort-timing.mjs';

const OPS = ['onnx.Conv', 'onnx.Gemm', 'onnx.MatMul', 'onnx.Relu', 'onnx.MaxPool', 'onnx.AveragePool', 'onnx.GlobalAveragePool', 'onnx.Add'];
const quantizeOf = (tree) => import(pathToFileURL(join(tree, 'node_modules/@modelpass/quantize/dist/index.js')).href);

async function child() {
  const q = await quantizeOf(flag('tree'));
  const histograms = JSON.parse(readFileSync(flag('histograms'), 'utf8')).map((json) => q.HistogramStatistics.fromJSON(json));
  const cpu = [];
  const wall = [];
  for (let round = 0; round < Number(flag('rounds')); round++) {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    for (const histogram of histograms) histogram.range('entropy', {});
    wall.push(performance.now() - started);
    const used = process.cpuUsage(cpuBefore);
    cpu.push((used.user + used.system) / 1e3);
  }
  const levels = [3, 7, 64, 100, 127, 128, 255, 256, 1000];
  const thresholds = histograms.flatMap((histogram) => levels.map((count) => q.entropyThreshold(histogram, count)));
  process.stdout.write(JSON.stringify({ cpu, wall, thresholds }));
}

async function main() {
  const trees = flag('trees', '').split(',').filter(Boolean).map((tree) => resolve(tree));
  if (trees.length === 0) throw new Error('--trees DIR[,DIR…] is required (built copies, see the header)');
  const processes = Number(flag('processes', '6'));
  const rounds = flag('rounds', '3');
  const scratch = mkdtempSync(join(os.tmpdir(), 'entropy-search-'));
  try {
    const { readOnnx } = await import(pathToFileURL(join(trees[0], 'node_modules/@modelpass/onnx/dist/index.js')).href);
    const q = await quantizeOf(trees[0]);
    const model = readOnnx(resolve(ROOT, flag('model', 'fixtures/models/fashion-resnet/model.onnx')));
    const tensors = model.graph.nodeList().filter((node) => OPS.includes(node.op)).map((node) => node.outputs[0].name);
    const statistics = await q.collectStatistics(model, tensors, { method: 'entropy', dataset: 'fashion-mnist:train', samples: Number(flag('samples', '2000')), warn: () => {} });
    const file = join(scratch, 'histograms.json');
    writeFileSync(file, JSON.stringify([...statistics.tensors.values()].map((histogram) => histogram.toJSON())));
    const results = new Map(trees.map((tree) => [tree, []]));
    for (let k = 0; k < processes; k++) {
      for (const tree of trees) {
        const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', '--tree', tree, '--histograms', file, '--rounds', rounds], { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 << 20 });
        results.get(tree).push(JSON.parse(out));
      }
    }
    const reference = JSON.stringify(results.get(trees[0])[0].thresholds);
    console.log(`${tensors.length} tensors, ${processes} fresh processes per tree (alternating), ${rounds} rounds each; CPU and wall in ms`);
    console.log('| tree | cold CPU, median [each] | cold wall, median | warm CPU (last round), median | thresholds |');
    console.log('|---|---|---:|---:|---|');
    for (const [tree, runs] of results) {
      const cold = runs.map((run) => run.cpu[0]);
      const same = runs.every((run) => JSON.stringify(run.thresholds) === reference);
      console.log(`| ${tree} | ${median(cold).toFixed(1)} [${cold.map((v) => v.toFixed(0)).join(' ')}] | ${median(runs.map((run) => run.wall[0])).toFixed(1)} | ${median(runs.map((run) => run.cpu.at(-1))).toFixed(1)} | ${same ? `same as ${trees[0]} (${runs[0].thresholds.length} per process)` : 'DIFFERENT'} |`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv.includes('--child')) await child();
else await main();
