#!/usr/bin/env node
// Per-run cost of calibration's statistics graphs (issue 9): the CPU time of one run of the min/max
// graph against one of the histogram graph, each way of counting it (`indices`: ORT returns int16 bin
// indices, counted in JavaScript; `scatter`: ScatterElements in ORT), on the same part, interleaved
// run by run in one process with one intra-op thread (so the ratios hold on a busy machine), and, with
// --profile, where the time goes per ONNX op (ORT's profiler, microseconds per run). A run's time
// includes reading its outputs into summaries (the JavaScript counting too). Nothing is written but stdout.
//
//   NX_DAEMON=false npx nx run @modelpass/quantize:build
//   node tools/bench/quantize/calibration-run-cost.mjs [--model fixtures/models/fashion-resnet/model.onnx]
//     [--samples-per-run 8] [--rounds 40] [--threads 1 (ORT intra-op threads)] [--profile]
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, flag, median } from '../prune/ort-timing.mjs';

const CALIBRATED_OPS = ['onnx.Conv', 'onnx.Gemm', 'onnx.MatMul', 'onnx.Relu', 'onnx.MaxPool', 'onnx.AveragePool', 'onnx.GlobalAveragePool', 'onnx.Add'];
const { readOnnx } = await import('@modelpass/onnx');
const { Tensor } = await import('@modelpass/ir');
const { StatisticsGraph, CALIBRATION_SESSION_OPTIONS } = await import('@modelpass/quantize');

const modelPath = join(ROOT, flag('model', 'fixtures/models/fashion-resnet/model.onnx'));
const perRun = Number(flag('samples-per-run', '8'));
const rounds = Number(flag('rounds', '40'));
const profile = process.argv.includes('--profile');
const threads = Number(flag('threads', '1'));
const prefix = join(tmpdir(), `calibration-run-cost-${process.pid}`);
Object.assign(CALIBRATION_SESSION_OPTIONS, { intraOpNumThreads: threads }, profile ? { enableProfiling: true, profileFilePrefix: prefix } : {});

const KINDS = [['minmax', undefined, undefined], ['indices', 2048, 'indices'], ['scatter', 2048, 'scatter']];
const graphs = {};
let feed;
for (const [kind, bins, counting] of KINDS) {
  const model = readOnnx(modelPath);
  const values = model.graph.nodeList().filter((node) => CALIBRATED_OPS.includes(node.op)).map((node) => node.outputs[0]);
  graphs[kind] = await StatisticsGraph.open(model, values, bins, counting);
  if (!feed) {
    const input = model.graph.inputs[0];
    const shape = [perRun, ...input.type.shape.slice(1)];
    let state = 1;
    const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    feed = new Map([[input.name, Tensor.fromValues('float32', shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, next))]]);
  }
}
const widths = new Map();
const kinds = KINDS.map(([kind]) => kind);
const cpu = Object.fromEntries(kinds.map((kind) => [kind, []]));
const ratios = Object.fromEntries(kinds.map((kind) => [kind, []]));
const sameCounts = [];
for (let round = 0; round < rounds + 3; round++) {
  const took = {};
  const counted = {};
  for (const kind of kinds) {
    const before = process.cpuUsage();
    const summaries = await graphs[kind].run(feed, widths);
    const used = process.cpuUsage(before);
    took[kind] = (used.user + used.system) / 1000;
    if (kind !== 'minmax') counted[kind] = [...summaries.values()].map((s) => [s.width, Array.from(s.counts)]);
  }
  // Both countings get the same widths (those of the previous round's indices run): their counts must agree.
  sameCounts.push(JSON.stringify(counted.indices) === JSON.stringify(counted.scatter));
  for (const [i, name] of graphs.indices.tensors.entries()) widths.set(name, counted.indices[i][0]);
  if (round < 3) continue; // warm-up
  for (const kind of kinds) {
    cpu[kind].push(took[kind]);
    ratios[kind].push(took[kind] / took.minmax);
  }
}
for (const graph of Object.values(graphs)) await graph.dispose(); // writes the profiles
console.log(`${modelPath.replace(ROOT + '/', '')}, ${graphs.minmax.tensors.length} tensors, ${perRun} samples per run, ${rounds} interleaved rounds, ${threads} intra-op thread${threads === 1 ? '' : 's'} (CPU ms per run, medians; × minmax: median of the rounds' ratios):`);
for (const kind of kinds) console.log(`  ${kind === 'minmax' ? 'minmax graph' : `histogram graph, ${kind} counting`} ${median(cpu[kind]).toFixed(2)} ms, ${median(ratios[kind]).toFixed(2)}× minmax`);
console.log(`  indices and scatter counts identical in ${sameCounts.filter(Boolean).length} of ${sameCounts.length} rounds`);
if (profile) {
  const { readdirSync } = await import('node:fs');
  for (const file of readdirSync(tmpdir()).filter((f) => f.startsWith(`calibration-run-cost-${process.pid}`)).sort()) {
    const events = JSON.parse(readFileSync(join(tmpdir(), file), 'utf8'));
    const byOp = new Map();
    let runs = 0;
    for (const e of events) {
      if (e.cat === 'Session' && e.name === 'model_run') runs++;
      if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) byOp.set(e.args.op_name, (byOp.get(e.args.op_name) ?? 0) + e.dur);
    }
    const top = [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([op, us]) => `${op} ${(us / runs).toFixed(0)}`);
    console.log(`  profile ${file} (${runs} runs), µs per run: ${top.join(', ')}`);
    rmSync(join(tmpdir(), file));
  }
}
