#!/usr/bin/env node
// Where `runReference` spends its time, per op type, on the real-model corpus: every kernel is
// wrapped to time its calls (subgraph bodies included, so an If's time also counts its branch's
// ops). Prints, per model, the total and the op types by time. For a CPU profile instead, run
// `node --cpu-prof tools/bench/real-models/profile.mjs --models blazeface-back-256`.
//
//   npx nx run-many -t build        # this script imports the built dist of each package
//   node tools/bench/real-models/profile.mjs [--runs 3] [--models id,id] [--top 12]
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { decodeOnnx } from '@modelpass/onnx';
import { kernelFor, runReference } from '@modelpass/ops';
import { opsWithoutKernel, projectOnnxModels, realModelFeeds, thirdPartyOnnxModels } from '@modelpass/conformance';
import { ensureThirdPartyModels } from '../../fixtures/third-party.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const RUNS = Number(flag('runs', '3'));
const TOP = Number(flag('top', '12'));
const only = flag('models', undefined)?.split(',');

const corpus = [...thirdPartyOnnxModels(await ensureThirdPartyModels({ format: 'onnx' })), ...projectOnnxModels()].filter(
  (model) => !only || only.includes(model.id),
);
for (const model of corpus) {
  const imported = decodeOnnx(readFileSync(model.path));
  const missing = opsWithoutKernel(imported);
  if (missing.length > 0) {
    console.log(`${model.id}: no kernel for ${missing.join(', ')}`);
    continue;
  }
  const feeds = realModelFeeds(model, imported, 0);
  const spent = new Map();
  const kernels = new Map();
  const ops = new Set();
  for (const node of imported.graph.allNodes()) ops.add(node.op);
  const timedKernel = (op) => {
    const kernel = kernelFor(op);
    return (inputs, context) => {
      const started = performance.now();
      try {
        return kernel(inputs, context);
      } finally {
        const entry = spent.get(op) ?? { ms: 0, calls: 0 };
        entry.ms += performance.now() - started;
        entry.calls++;
        spent.set(op, entry);
      }
    };
  };
  for (const op of ops) if (kernelFor(op)) kernels.set(op, timedKernel(op));
  for (const nested of ['onnx.LSTM', 'onnx.Conv', 'onnx.Add', 'onnx.Mul', 'onnx.Concat', 'onnx.Slice', 'onnx.Sigmoid', 'onnx.Relu']) {
    if (!kernels.has(nested)) kernels.set(nested, timedKernel(nested));
  }
  runReference(imported, feeds, { kernels }); // warm-up
  spent.clear();
  const started = performance.now();
  for (let i = 0; i < RUNS; i++) runReference(imported, feeds, { kernels });
  const total = (performance.now() - started) / RUNS;
  const rows = [...spent.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, TOP);
  console.log(`${model.id}: ${total.toFixed(1)} ms per run`);
  for (const [op, { ms, calls }] of rows) {
    console.log(`  ${op.padEnd(28)} ${(ms / RUNS).toFixed(1).padStart(9)} ms  ${String(calls / RUNS).padStart(5)} calls`);
  }
}
