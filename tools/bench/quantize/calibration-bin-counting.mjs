#!/usr/bin/env node
// Per-run cost of counting the in-graph histogram's int16 bin indices (issue 9, s15): one process, the
// same part of real calibration images, runs interleaved: the min/max graph, the histogram graph as
// calibration runs it (indices counted in WebAssembly, `wasm-bin-counter.ts`), and the same graph with
// the JavaScript loop it falls back to (`countBinIndices`; reached by clearing the graph's private
// counter — a bench, not an API). CPU ms per run (medians after 3 warm-up rounds), × minmax, and
// whether both countings gave the same widths and counts in every round.
//
//   npx tsc -b packages/quantize
//   node tools/bench/quantize/calibration-bin-counting.mjs [--model fixtures/models/fashion-resnet/model.onnx]
//     [--dataset fashion-mnist:train] [--samples-per-run 8] [--rounds 60] [--threads 1 (ORT intra-op threads)]
import { join } from 'node:path';
import { ROOT, flag, median } from '../prune/ort-timing.mjs';

const CALIBRATED_OPS = ['onnx.Conv', 'onnx.Gemm', 'onnx.MatMul', 'onnx.Relu', 'onnx.MaxPool', 'onnx.AveragePool', 'onnx.GlobalAveragePool', 'onnx.Add'];
const { readOnnx } = await import('@modelpass/onnx');
const { StatisticsGraph, CALIBRATION_SESSION_OPTIONS, openCalibrationData } = await import('@modelpass/quantize');

const modelPath = join(ROOT, flag('model', 'fixtures/models/fashion-resnet/model.onnx'));
const dataset = flag('dataset', 'fashion-mnist:train');
const perRun = Number(flag('samples-per-run', '8'));
const rounds = Number(flag('rounds', '60'));
const threads = Number(flag('threads', '1'));
Object.assign(CALIBRATION_SESSION_OPTIONS, { intraOpNumThreads: threads });

const open = async (bins) => {
  const model = readOnnx(modelPath);
  const values = model.graph.nodeList().filter((node) => CALIBRATED_OPS.includes(node.op)).map((node) => node.outputs[0]);
  return StatisticsGraph.open(model, values, bins, bins === undefined ? undefined : 'indices');
};
const graphs = { minmax: await open(undefined), wasm: await open(2048), javascript: await open(2048) };
graphs.javascript.counter = undefined;
graphs.javascript.scratch = graphs.javascript.tensors.map(() => new Float64Array(2 * 2048));
let feeds;
for await (const batch of openCalibrationData(readOnnx(modelPath), { dataset, samples: perRun, batchSize: perRun, cwd: ROOT })) {
  feeds = batch.feeds;
  break;
}
const widths = new Map();
const cpu = { minmax: [], wasm: [], javascript: [] };
let same = 0;
for (let round = 0; round < rounds + 3; round++) {
  const counted = {};
  for (const [kind, graph] of Object.entries(graphs)) {
    const before = process.cpuUsage();
    const summaries = await graph.run(feeds, widths);
    const used = process.cpuUsage(before);
    if (round >= 3) cpu[kind].push((used.user + used.system) / 1000);
    if (kind !== 'minmax') counted[kind] = JSON.stringify([...summaries.values()].map((s) => [s.width, Array.from(s.counts)]));
    if (kind === 'wasm') for (const [name, s] of summaries) widths.set(name, s.width);
  }
  if (counted.wasm === counted.javascript) same++;
}
for (const graph of Object.values(graphs)) await graph.dispose();
const minmax = median(cpu.minmax);
console.log(`${modelPath.replace(ROOT + '/', '')} on ${dataset}, ${graphs.minmax.tensors.length} tensors, ${perRun} samples per run, ${rounds} interleaved rounds, ${threads} intra-op thread${threads === 1 ? '' : 's'} (CPU ms per run, medians):`);
console.log(`  minmax graph ${minmax.toFixed(2)} ms`);
for (const kind of ['wasm', 'javascript']) console.log(`  histogram graph, indices counted in ${kind === 'wasm' ? 'WebAssembly' : 'JavaScript'} ${median(cpu[kind]).toFixed(2)} ms, ${(median(cpu[kind]) / minmax).toFixed(2)}× minmax`);
console.log(`  same widths and counts in ${same} of ${rounds + 3} rounds`);
