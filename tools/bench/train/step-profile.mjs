#!/usr/bin/env node
// Milliseconds per training step of the Fashion-MNIST CNN (fixtures/models/fashion-cnn): the training
// graph of @modelpass/train (SGD momentum 0.9, BatchNorm batch statistics, cross-entropy), one ONNX
// Runtime session, batch 128 of random images, the updated weights fed back each step as `fit` does.
// Prints wall ms/step, CPU ms/step (process.cpuUsage, all threads) and the load average; with `p`,
// ORT's profiler runs and the kernel time per op type is summed from its JSON (top lines printed).
//
//   npx nx run @modelpass/train:build
//   node tools/bench/train/step-profile.mjs THREADS [p] [--steps 40] [--batch 128] [--optimizer sgd|adamw]
//        [--dist DIR] [--spin 0|1] [--parallel] [--save FILE.onnx]
//   # A/B of two builds, interleaved in fresh processes, minimums per build:
//   node tools/bench/train/step-profile.mjs THREADS --ab OLD_DIST,NEW_DIST [--rounds 4]
//
// `--dist DIR`: a copy of packages/train/dist to use instead of the workspace's @modelpass/train (put the
// copy two folders below a `node_modules` link to this repository's node_modules, e.g. /tmp/ab/old/dist
// with /tmp/ab/node_modules → node_modules, so its own imports resolve). `--spin 0`: ORT's
// `session.intra_op.allow_spinning=0`. `--parallel`: executionMode parallel with 2 inter-op threads (independent
// nodes at once) besides THREADS intra-op threads.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../..');
const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const index = argv.indexOf(`--${name}`);
  return index >= 0 ? argv[index + 1] : fallback;
};
const THREADS = Number(argv[0] ?? 1);
const PROFILE = argv[1] === 'p';
const STEPS = Number(flag('steps', '40'));
const WARMUP = 5;
const BATCH = Number(flag('batch', '128'));
const OPTIMIZER = flag('optimizer', 'sgd');
const DIST = flag('dist', undefined);
const SPIN = flag('spin', undefined);
const AB = flag('ab', undefined);
const PARALLEL = argv.includes('--parallel');

if (!(THREADS >= 1)) {
  console.error('usage: step-profile.mjs THREADS [p] [--steps N] [--batch N] [--optimizer sgd|adamw] [--dist DIR] [--spin 0|1] [--save FILE] | THREADS --ab OLD,NEW [--rounds R]');
  process.exit(2);
}

if (AB) {
  // Interleave the builds (old, new, old, new, …), each run in its own process; report the minimums.
  const dists = AB.split(',');
  const rounds = Number(flag('rounds', '4'));
  const passOn = ['--steps', String(STEPS), '--batch', String(BATCH), '--optimizer', OPTIMIZER, ...(SPIN ? ['--spin', SPIN] : []), ...(PARALLEL ? ['--parallel'] : [])];
  const results = dists.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, dist] of dists.entries()) {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), String(THREADS), '--dist', dist, '--json', ...passOn], { cwd: ROOT, encoding: 'utf8' });
      const result = JSON.parse(out.trim().split('\n').at(-1));
      results[i].push(result);
      console.error(`round ${round + 1} ${dist}: wall ${result.wallMs.toFixed(1)} ms/step, CPU ${result.cpuMs.toFixed(1)} ms/step (load ${result.load.toFixed(1)})`);
    }
  }
  const minimum = (list, key) => Math.min(...list.map((r) => r[key]));
  for (const [i, dist] of dists.entries()) {
    console.log(`${dist}: min wall ${minimum(results[i], 'wallMs').toFixed(1)} ms/step, min CPU ${minimum(results[i], 'cpuMs').toFixed(1)} ms/step over ${rounds} runs`);
  }
  if (dists.length === 2) {
    console.log(`new/old: wall ${(minimum(results[1], 'wallMs') / minimum(results[0], 'wallMs')).toFixed(2)}×, CPU ${(minimum(results[1], 'cpuMs') / minimum(results[0], 'cpuMs')).toFixed(2)}× (${THREADS} thread${THREADS > 1 ? 's' : ''}, load ${loadavg()[0].toFixed(1)} at the end)`);
  }
  process.exit(0);
}

const { readOnnx, encodeOnnx } = await import('@modelpass/onnx');
const { loadOnnxRuntime, toOrtTensor } = await import('@modelpass/runtime');
const train = await import(DIST ? pathToFileURL(join(resolve(DIST), 'index.js')).href : '@modelpass/train');

const model = await readOnnx(join(ROOT, 'fixtures/models/fashion-cnn/model.onnx'));
const graph = train.buildTrainingGraph(model, {
  loss: { kind: 'cross-entropy' },
  optimizer: OPTIMIZER === 'sgd' ? { kind: 'sgd', momentum: 0.9 } : { kind: 'adamw' },
  batchNormalization: 'batch-statistics', dropout: 'train',
});
const bytes = encodeOnnx(graph.model);
if (flag('save', undefined)) writeFileSync(flag('save', undefined), bytes);
const ort = await loadOnnxRuntime();
const profileDir = PROFILE ? mkdtempSync(join(tmpdir(), 'step-profile-')) : undefined;
const session = await ort.InferenceSession.create(bytes, {
  intraOpNumThreads: THREADS, interOpNumThreads: PARALLEL ? 2 : 1, graphOptimizationLevel: 'all', executionMode: PARALLEL ? 'parallel' : 'sequential', logSeverityLevel: 3,
  ...(PROFILE ? { enableProfiling: true, profileFilePrefix: join(profileDir, 'ort') } : {}),
  ...(SPIN !== undefined ? { extra: { session: { intra_op: { allow_spinning: SPIN } } } } : {}),
});
const current = {};
for (const c of graph.carried) current[c.input] = toOrtTensor(ort.Tensor, c.initial, c.input);
let seed = 1;
const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const images = new ort.Tensor('float32', Float32Array.from({ length: BATCH * 784 }, random), [BATCH, 1, 28, 28]);
const labels = new ort.Tensor('int64', BigInt64Array.from({ length: BATCH }, (_, i) => BigInt(i % 10)), [BATCH]);
const inputName = model.graph.inputs[0].name;
const fetches = [graph.loss, ...graph.carried.map((c) => c.output)];
let started = 0;
let cpuStart;
for (let step = 0; step < STEPS + WARMUP; step++) {
  if (step === WARMUP) { started = performance.now(); cpuStart = process.cpuUsage(); }
  const feeds = { ...current, [inputName]: images, labels };
  const scalars = graph.optimizerRule.scalars(graph.optimizer, 0.01, step + 1);
  for (const [name, input] of graph.scalarInputs) feeds[input] = new ort.Tensor('float32', Float32Array.of(scalars[name]), []);
  const results = await session.run(feeds, fetches);
  for (const c of graph.carried) current[c.input] = results[c.output];
}
const wallMs = (performance.now() - started) / STEPS;
const cpu = process.cpuUsage(cpuStart);
const cpuMs = (cpu.user + cpu.system) / 1000 / STEPS;
const nodes = graph.model.graph.nodeList().length;
const load = loadavg()[0];
if (argv.includes('--json')) {
  console.log(JSON.stringify({ wallMs, cpuMs, nodes, load, threads: THREADS }));
} else {
  console.log(`${nodes} nodes; ${THREADS} thread${THREADS > 1 ? 's' : ''}${SPIN !== undefined ? `, allow_spinning=${SPIN}` : ''}${PARALLEL ? ', parallel execution (2 inter-op threads)' : ''}: wall ${wallMs.toFixed(1)} ms/step (epoch of 468 steps ≈ ${(wallMs * 468 / 1000).toFixed(1)} s), CPU ${cpuMs.toFixed(1)} ms/step; load ${load.toFixed(1)}`);
}

if (PROFILE) {
  const file = session.endProfiling();
  const path = typeof file === 'string' && file ? file : undefined;
  await session.release();
  const events = JSON.parse(readFileSync(path ?? join(profileDir, (await import('node:fs')).readdirSync(profileDir)[0]), 'utf8'));
  // Per node, the minimum over the steps (robust to the preemptions of a loaded machine), then summed per op type.
  const byNode = new Map();
  for (const event of events) {
    if (event.cat !== 'Node' || !event.name.endsWith('_kernel_time')) continue;
    const name = event.name.replace(/_kernel_time$/, '');
    const entry = byNode.get(name) ?? { op: event.args?.op_name ?? '?', us: Infinity };
    entry.us = Math.min(entry.us, event.dur);
    byNode.set(name, entry);
  }
  const byOp = new Map();
  for (const { op, us } of byNode.values()) {
    const entry = byOp.get(op) ?? { us: 0, count: 0 };
    entry.us += us;
    entry.count++;
    byOp.set(op, entry);
  }
  const total = [...byOp.values()].reduce((a, b) => a + b.us, 0) / 1000;
  console.log(`kernel time ${total.toFixed(1)} ms/step (each node's minimum over ${STEPS + WARMUP} steps, summed)`);
  for (const [op, { us, count }] of [...byOp].sort((a, b) => b[1].us - a[1].us).slice(0, 18)) {
    console.log(`  ${op.padEnd(22)} ${(us / 1000).toFixed(2).padStart(6)} ms  ${String(count).padStart(3)} nodes`);
  }
  console.log('slowest nodes:');
  for (const [name, { op, us }] of [...byNode].sort((a, b) => b[1].us - a[1].us).slice(0, 14)) {
    console.log(`  ${(us / 1000).toFixed(2).padStart(6)} ms  ${op} ${name}`);
  }
  rmSync(profileDir, { recursive: true, force: true });
}
