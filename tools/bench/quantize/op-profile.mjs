// Where ORT spends the time of two (or more) models, by op type and by node: one-thread sessions
// (all graph optimizations), ORT's profiler, runs interleaved model by model so a slow phase of a
// shared machine hits every model alike. For placement experiments of quantize-static:
//
//   node tools/bench/quantize/op-profile.mjs --models a.onnx,b.onnx [--runs 20] [--batch 1] [--top 8] [--latency-only]
//     [--level all|extended|basic|disabled] [--config key=value,key=value] [--classes]
//
// `--classes` adds per model the kernel time by kind of work (kernel-classes.mjs: Conv 1×1 /
// depthwise / grouped / k×k, the Mul of SiLU or HardSwish, other Muls such as the SE scale).
// `--level` and `--config` (ORT session config entries, e.g. session.intra_op.allow_spinning=0,
// session.disable_prepacking=1) apply to every model alike, so the rows stay comparable.
// Prints per model: end-to-end latency (median and minimum), then per op type the summed median
// kernel time per run and the node count, then the `top` slowest nodes.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { flag, median } from './lib.mjs';
import { kernelClassifier } from './kernel-classes.mjs';

const models = flag('models', '').split(',').filter(Boolean);
const runs = Number(flag('runs', '20'));
const batch = Number(flag('batch', '1'));
const top = Number(flag('top', '8'));
/** `--latency-only`: no profiler (its per-node bookkeeping inflates end-to-end times of many-node models). */
const profile = !process.argv.includes('--latency-only');
const classes = process.argv.includes('--classes');
const level = flag('level', 'all');
if (!['all', 'extended', 'basic', 'disabled'].includes(level)) throw new Error(`--level: expected all, extended, basic or disabled, got '${level}'`);
/** Session config entries as ORT's `extra` object (its keys are joined with dots). */
const extra = {};
for (const entry of flag('config', '').split(',').filter(Boolean)) {
  const [key, value] = entry.split('=');
  if (!key || value === undefined) throw new Error(`--config: expected key=value, got '${entry}'`);
  const path = key.split('.');
  let node = extra;
  for (const part of path.slice(0, -1)) node = node[part] ??= {};
  node[path.at(-1)] = value;
}
if (models.length === 0) throw new Error('usage: op-profile.mjs --models a.onnx,b.onnx [--runs N] [--batch N] [--top N]');

const work = mkdtempSync(join(tmpdir(), 'op-profile-'));
const sessions = [];
for (const [i, path] of models.entries()) {
  const prefix = join(work, `p${i}`);
  const s = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: level, logSeverityLevel: 3, enableProfiling: profile, profileFilePrefix: prefix, extra });
  sessions.push({ path, s, prefix, times: [] });
}
const input = sessions[0].s.inputNames[0];
const data = new Float32Array(batch * 3 * 224 * 224);
for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 12.9898) * 1.7;
const feeds = { [input]: new ort.Tensor('float32', data, [batch, 3, 224, 224]) };
for (let round = 0; round < runs + 2; round++) {
  const order = round % 2 ? sessions : [...sessions].reverse();
  for (const entry of order) {
    const start = performance.now();
    await entry.s.run(feeds);
    if (round >= 2) entry.times.push(performance.now() - start);
  }
}
for (const entry of sessions) {
  if (!profile) {
    console.log(`${entry.path}: median ${median(entry.times).toFixed(2)} ms, min ${Math.min(...entry.times).toFixed(2)} ms`);
    await entry.s.release();
    continue;
  }
  entry.s.endProfiling();
  await entry.s.release();
  const file = readdirSync(work).map((f) => join(work, f)).find((f) => f.startsWith(entry.prefix + '_') || f.startsWith(entry.prefix));
  const perNode = new Map();
  for (const event of JSON.parse(readFileSync(file, 'utf8'))) {
    if (event.cat !== 'Node' || !event.name.endsWith('_kernel_time')) continue;
    const key = `${event.args?.op_name ?? '?'}\u0000${event.name.replace(/_kernel_time$/, '')}`;
    perNode.set(key, [...(perNode.get(key) ?? []), event.dur / 1000]);
  }
  rmSync(file, { force: true });
  const nodes = [...perNode].map(([key, t]) => [...key.split('\u0000'), median(t.slice(2))]);
  const byOp = new Map();
  for (const [op, , ms] of nodes) {
    const [sum, count] = byOp.get(op) ?? [0, 0];
    byOp.set(op, [sum + ms, count + 1]);
  }
  const total = nodes.reduce((a, n) => a + n[2], 0);
  console.log(`\n== ${entry.path}: median ${median(entry.times).toFixed(2)} ms, min ${Math.min(...entry.times).toFixed(2)} ms, kernels ${total.toFixed(2)} ms in ${nodes.length} nodes`);
  for (const [op, [sum, count]] of [...byOp].sort((a, b) => b[1][0] - a[1][0])) console.log(`  ${op.padEnd(28)} ${sum.toFixed(2).padStart(8)} ms  ×${count}`);
  if (classes) {
    const classOf = kernelClassifier(entry.path);
    const byClass = new Map();
    for (const [op, name, ms] of nodes) {
      const kind = classOf(name, op);
      const [sum, count] = byClass.get(kind) ?? [0, 0];
      byClass.set(kind, [sum + ms, count + 1]);
    }
    console.log('  by kind of work:');
    for (const [kind, [sum, count]] of [...byClass].sort((a, b) => b[1][0] - a[1][0])) console.log(`    ${kind.padEnd(44)} ${sum.toFixed(2).padStart(8)} ms  ×${count}`);
  }
  for (const [op, name, ms] of nodes.sort((a, b) => b[2] - a[2]).slice(0, top)) console.log(`    ${ms.toFixed(3).padStart(7)} ms  ${op} ${name}`);
}
rmSync(work, { recursive: true, force: true });
