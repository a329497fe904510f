#!/usr/bin/env node
// Benchmark of the `simplify` pass (and `optimize`) on the real models: node counts before/after
// and ONNX Runtime latency before/after (same process, interleaved, median of N runs).
//
//   npx nx run-many -t build   # the benchmark imports the built dist of each package
//   node tools/bench/simplify/run.mjs [--runs 30] [--pipeline simplify|optimize] [--out tools/bench/simplify/RESULTS.md]
//
// When the CLI exists this is `modelpass convert in.onnx -o out.onnx --pipeline simplify --statistics`;
// until then it drives the library API.
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { Tensor } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { readTensorFile, toOrtTensor } from '@modelpass/runtime';
import { optimize, simplify } from '@modelpass/transforms';
import { ensureThirdPartyModels } from '../../fixtures/third-party.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const RUNS = Number(flag('runs', '30'));
const PIPELINE = flag('pipeline', 'simplify');
const OUT = resolve(flag('out', join(ROOT, 'tools/bench/simplify/RESULTS.md')));
const pass = { simplify, optimize }[PIPELINE];
if (!pass) throw new Error(`--pipeline must be simplify or optimize, got '${PIPELINE}'`);

function countNodes(model) {
  let n = 0;
  for (const _ of model.graph.allNodes()) n++;
  return n;
}

function passContext(p, statistics) {
  const options = {};
  for (const [name, spec] of Object.entries(p.options)) if (spec.default !== undefined) options[name] = spec.default;
  return {
    options,
    registry: createOpRegistry(),
    passName: p.name,
    patterns: [],
    statistic: (name, delta = 1) => statistics.set(name, (statistics.get(name) ?? 0) + delta),
    analysis: () => {
      throw new Error('no analyses');
    },
    report: () => {},
    debug: () => {},
    signal: new AbortController().signal,
    preserveAll: () => ({ all: true }),
    preserveNone: () => ({ all: false, analyses: new Set() }),
    preserve: (a) => ({ all: false, analyses: new Set(a) }),
  };
}

function seeded(seed) {
  let state = seed >>> 0 || 1;
  return () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

async function models() {
  const list = [];
  const dir = join(ROOT, 'fixtures/models');
  for (const name of existsSync(dir) ? readdirSync(dir).sort() : []) {
    const file = join(dir, name, 'model.onnx');
    if (!existsSync(file)) continue;
    const bytes = readFileSync(file);
    const model = decodeOnnx(bytes, { file });
    const feeds = {};
    model.graph.inputs.filter((v) => !v.constant).forEach((v, i) => (feeds[v.name] = readTensorFile(join(dir, name, 'test_data_set_0', `input_${i}.pb`))));
    list.push({ id: `fixture/${name}`, bytes, feeds });
  }
  const entries = await ensureThirdPartyModels({ format: 'onnx', log: null });
  entries.forEach((entry, index) => {
    const random = seeded(99 + index);
    const feeds = {};
    for (const input of entry.inputs) {
      const count = input.testShape.reduce((n, d) => n * d, 1);
      const { kind, low = 0, high = 1, value } = input.fill;
      const values = Array.from({ length: count }, (_, i) => (kind === 'zeros' ? 0 : kind === 'value' ? value[i % value.length] : low + (high - low) * random()));
      const typed = input.dtype === 'int64' ? values.map((v) => BigInt(Math.round(v))) : values;
      feeds[input.name] = Tensor.fromValues(input.dtype, input.testShape, typed);
    }
    list.push({ id: `third-party/${entry.id}`, bytes: readFileSync(entry.path), feeds });
  });
  return list;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function session(bytes) {
  return ort.InferenceSession.create(bytes, { logSeverityLevel: 4, intraOpNumThreads: 1 });
}

async function timeOnce(s, feeds) {
  const ortFeeds = {};
  for (const name of s.inputNames) ortFeeds[name] = toOrtTensor(ort.Tensor, feeds[name], name);
  const start = performance.now();
  await s.run(ortFeeds);
  return performance.now() - start;
}

const rows = [];
for (const entry of await models()) {
  const model = decodeOnnx(entry.bytes, { file: entry.id });
  const nodesBefore = countNodes(model);
  const statistics = new Map();
  const started = performance.now();
  await pass.run(model, passContext(pass, statistics));
  const passMs = performance.now() - started;
  const after = encodeOnnx(model);
  const row = { id: entry.id, nodesBefore, nodesAfter: countNodes(model), bytesBefore: entry.bytes.byteLength, bytesAfter: after.byteLength, passMs };
  try {
    const [a, b] = [await session(entry.bytes), await session(after)];
    const ta = [];
    const tb = [];
    for (let i = 0; i < 3; i++) await timeOnce(a, entry.feeds), await timeOnce(b, entry.feeds);
    for (let i = 0; i < RUNS; i++) {
      ta.push(await timeOnce(a, entry.feeds));
      tb.push(await timeOnce(b, entry.feeds));
    }
    row.msBefore = median(ta);
    row.msAfter = median(tb);
    await a.release();
    await b.release();
  } catch (error) {
    row.error = String(error.message ?? error).split('\n')[0];
  }
  rows.push(row);
  console.log(`${row.id}: ${row.nodesBefore} -> ${row.nodesAfter} nodes, ${row.msBefore?.toFixed(3) ?? '-'} -> ${row.msAfter?.toFixed(3) ?? '-'} ms`);
}

const fmt = (v, digits = 3) => (v === undefined ? '–' : v.toFixed(digits));
const lines = [
  `# \`${PIPELINE}\` on the real models`,
  '',
  `Generated by \`node tools/bench/simplify/run.mjs --pipeline ${PIPELINE} --runs ${RUNS}\` on ${new Date().toISOString().slice(0, 10)}`,
  `(Node ${process.version}, onnxruntime-node, one intra-op thread, ORT's default graph optimizations on for both models;`,
  `latency is the median of ${RUNS} interleaved runs after 3 warm-up runs; machines here are noisy, compare within a row).`,
  '',
  '| model | nodes before | nodes after | file bytes before | after | pass ms | ORT ms before | ORT ms after | ratio |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.id} | ${r.nodesBefore} | ${r.nodesAfter} | ${r.bytesBefore} | ${r.bytesAfter} | ${fmt(r.passMs, 1)} | ${fmt(r.msBefore)} | ${fmt(r.msAfter)} | ${r.msBefore ? fmt(r.msAfter / r.msBefore, 2) : r.error ?? '–'} |`,
  ),
  '',
  `Total nodes: ${rows.reduce((n, r) => n + r.nodesBefore, 0)} → ${rows.reduce((n, r) => n + r.nodesAfter, 0)}.`,
  '',
];
const tmp = `${OUT}.tmp-${process.pid}`;
writeFileSync(tmp, lines.join('\n'));
renameSync(tmp, OUT);
console.log(`wrote ${OUT}`);
