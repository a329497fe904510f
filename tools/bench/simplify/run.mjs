#!/usr/bin/env node
// Benchmark of `modelpass convert --pipeline simplify` on the real ONNX models: the real CLI command
// per model, node counts before/after (`modelpass inspect --json`), file size before/after, and
// ONNX Runtime latency of the original (A) and the simplified (B) model, measured in this one
// process, interleaved A,B,A,B..., one intra-op thread, after warm-up, median of N, ratio B/A,
// at each of the ORT graph-optimization levels given (default: disabled and all).
//
//   npx nx run-many -t build        # the CLI and this script use the built dist of each package
//   node tools/bench/simplify/run.mjs [--pipeline simplify] [--runs 30] [--warmup 5] \
//        [--levels disabled,all] [--out tools/bench/simplify/RESULTS.md]
import { execFileSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { Tensor } from '@modelpass/ir';
import { readTensorFile, toOrtTensor, fromOrtTensor } from '@modelpass/runtime';
import { ensureThirdPartyModels } from '../../fixtures/third-party.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(ROOT, 'packages/cli/dist/bin.js');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const RUNS = Number(flag('runs', '30'));
const WARMUP = Number(flag('warmup', '5'));
const PIPELINE = flag('pipeline', 'simplify');
const LEVELS = flag('levels', 'disabled,all').split(',');
const OUT = resolve(flag('out', join(ROOT, 'tools/bench/simplify/RESULTS.md')));
const KNOWN_LEVELS = new Set(['disabled', 'basic', 'extended', 'all']);
for (const level of LEVELS) if (!KNOWN_LEVELS.has(level)) throw new Error(`--levels: unknown ORT level '${level}' (disabled, basic, extended, all)`);
if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx nx run-many -t build\` first`);

const WORK = mkdtempSync(join(tmpdir(), 'modelpass-bench-simplify-'));

function cli(...cliArgs) {
  return execFileSync(process.execPath, [CLI, ...cliArgs], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
}

function seeded(seed) {
  let state = seed >>> 0 || 1;
  return () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** Project fixtures (with their recorded inputs) and the third-party ONNX models (seeded inputs of the manifest's test shapes). */
async function models() {
  const list = [];
  const dir = join(ROOT, 'fixtures/models');
  for (const name of existsSync(dir) ? readdirSync(dir).sort() : []) {
    const file = join(dir, name, 'model.onnx');
    const data = join(dir, name, 'test_data_set_0');
    if (!existsSync(file) || !existsSync(data)) continue;
    const inputs = readdirSync(data).filter((f) => /^input_\d+\.pb$/.test(f)).sort();
    list.push({ id: `fixture/${name}`, path: file, inputFiles: inputs.map((f) => join(data, f)) });
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
    list.push({ id: `third-party/${entry.id}`, path: entry.path, feeds });
  });
  return list;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function session(path, level) {
  return ort.InferenceSession.create(path, {
    logSeverityLevel: 4,
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: level,
  });
}

function ortFeeds(s, feeds) {
  const out = {};
  for (const name of s.inputNames) {
    if (!feeds[name]) throw new Error(`no input named '${name}'`);
    out[name] = toOrtTensor(ort.Tensor, feeds[name], name);
  }
  return out;
}

async function timeOnce(s, feeds) {
  const start = performance.now();
  await s.run(feeds);
  return performance.now() - start;
}

/** Largest |a − b| over the float outputs of both sessions (integer outputs must match exactly). */
async function maxDifference(a, b, feedsA, feedsB) {
  const [ra, rb] = [await a.run(feedsA), await b.run(feedsB)];
  let worst = 0;
  for (const name of a.outputNames) {
    const x = fromOrtTensor(ra[name], name).toNumbers();
    const y = fromOrtTensor(rb[name], name).toNumbers();
    if (x.length !== y.length) return Infinity;
    for (let i = 0; i < x.length; i++) if (!(Number.isNaN(x[i]) && Number.isNaN(y[i]))) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  }
  return worst;
}

/** A, B interleaved at one ORT level: warm-up, then N timed pairs; medians and the ratio B/A. */
async function latency(pathA, pathB, feeds, level) {
  const [a, b] = [await session(pathA, level), await session(pathB, level)];
  try {
    const [fa, fb] = [ortFeeds(a, feeds), ortFeeds(b, feeds)];
    const diff = await maxDifference(a, b, fa, fb);
    for (let i = 0; i < WARMUP; i++) await timeOnce(a, fa), await timeOnce(b, fb);
    const ta = [];
    const tb = [];
    for (let i = 0; i < RUNS; i++) {
      ta.push(await timeOnce(a, fa));
      tb.push(await timeOnce(b, fb));
    }
    const msA = median(ta);
    const msB = median(tb);
    return { msA, msB, ratio: msB / msA, diff };
  } finally {
    await a.release();
    await b.release();
  }
}

const rows = [];
for (const entry of await models()) {
  const safe = entry.id.replace(/[^A-Za-z0-9_.-]/g, '_');
  const out = join(WORK, `${safe}.onnx`);
  const statsFile = join(WORK, `${safe}.stats.json`);
  const row = { id: entry.id, bytesBefore: statSync(entry.path).size };
  row.nodesBefore = JSON.parse(cli('inspect', entry.path, '--json')).nodes;
  const started = performance.now();
  try {
    cli('convert', entry.path, '-o', out, '--pipeline', PIPELINE, '--statistics', '--statistics-json', statsFile);
  } catch (error) {
    row.error = `convert failed: ${String(error.stderr ?? error.message).trim().split('\n').pop()}`;
    rows.push(row);
    console.log(`${row.id}: ${row.error}`);
    continue;
  }
  row.convertMs = performance.now() - started;
  row.bytesAfter = statSync(out).size;
  row.nodesAfter = JSON.parse(cli('inspect', out, '--json')).nodes;
  const feeds = entry.feeds ?? Object.fromEntries(
    // fixture inputs are named by position; bind them to the graph's input names through ORT
    (await (async () => {
      const s = await session(entry.path, 'disabled');
      const names = s.inputNames;
      await s.release();
      return names.map((name, i) => [name, readTensorFile(entry.inputFiles[i])]);
    })()),
  );
  row.levels = {};
  for (const level of LEVELS) {
    try {
      row.levels[level] = await latency(entry.path, out, feeds, level);
    } catch (error) {
      row.levels[level] = { error: String(error.message ?? error).split('\n')[0] };
    }
  }
  rows.push(row);
  const summary = LEVELS.map((l) => (row.levels[l].error ? `${l}: ${row.levels[l].error}` : `${l}: ${row.levels[l].msA.toFixed(3)} → ${row.levels[l].msB.toFixed(3)} ms`)).join('; ');
  console.log(`${row.id}: ${row.nodesBefore} → ${row.nodesAfter} nodes, ${row.bytesBefore} → ${row.bytesAfter} bytes; ${summary}`);
}
rmSync(WORK, { recursive: true, force: true });

const fmt = (v, digits = 3) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits));
const ortVersion = JSON.parse(readFileSync(join(ROOT, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version;
const command = `node tools/bench/simplify/run.mjs --pipeline ${PIPELINE} --runs ${RUNS} --warmup ${WARMUP} --levels ${LEVELS.join(',')}`;
const sum = (key) => rows.reduce((n, r) => n + (r[key] ?? 0), 0);
const geomean = (level) => {
  const ratios = rows.map((r) => r.levels?.[level]?.ratio).filter((x) => x > 0);
  return ratios.length ? Math.exp(ratios.reduce((n, x) => n + Math.log(x), 0) / ratios.length) : NaN;
};
const lines = [
  `# \`${PIPELINE}\` on the real ONNX models`,
  '',
  `Generated on ${new Date().toISOString().slice(0, 10)} by`,
  '',
  '```',
  'npx nx run-many -t build',
  command,
  '```',
  '',
  `Per model it runs the real CLI, \`modelpass convert in.onnx -o out.onnx --pipeline ${PIPELINE} --statistics\``,
  '(`node packages/cli/dist/bin.js`), and counts nodes (subgraphs included) with `modelpass inspect --json` before and after.',
  `Latency: onnxruntime-node ${ortVersion} on CPU in one Node ${process.version} process (${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}),`,
  `one intra-op and one inter-op thread, sequential execution; original (A) and simplified (B) sessions alternate A,B,A,B…,`,
  `${WARMUP} warm-up pairs, then the median of ${RUNS} runs each; ratio = B/A (below 1: the simplified model is faster).`,
  `ORT's own graph optimizations are fixed per table: \`disabled\` shows what ${PIPELINE} itself buys; \`all\` (ORT's default) what`,
  'is left once ORT has done its own constant folding and fusions. "max |Δ|" is the largest output difference between A and B',
  'on the benchmark inputs. Shared machines are noisy: read ratios within a row, and treat ±5% as noise.',
  '',
  '| model | nodes before | nodes after | file bytes before | after | Δ bytes | convert s |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) =>
    r.error
      ? `| ${r.id} | ${r.nodesBefore ?? '–'} | – | ${r.bytesBefore} | – | – | ${r.error} |`
      : `| ${r.id} | ${r.nodesBefore} | ${r.nodesAfter} | ${r.bytesBefore} | ${r.bytesAfter} | ${r.bytesAfter - r.bytesBefore} | ${fmt(r.convertMs / 1000, 2)} |`,
  ),
  `| **total** | **${sum('nodesBefore')}** | **${sum('nodesAfter')}** | **${sum('bytesBefore')}** | **${sum('bytesAfter')}** | **${sum('bytesAfter') - sum('bytesBefore')}** | |`,
  '',
];
for (const level of LEVELS) {
  lines.push(
    `## ORT latency, graphOptimizationLevel = \`${level}\``,
    '',
    '| model | A: original ms | B: simplified ms | ratio B/A | max \\|Δ\\| |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => {
      const m = r.levels?.[level];
      if (!m) return `| ${r.id} | – | – | – | – |`;
      if (m.error) return `| ${r.id} | – | – | ${m.error} | – |`;
      return `| ${r.id} | ${fmt(m.msA)} | ${fmt(m.msB)} | ${fmt(m.ratio, 2)} | ${m.diff.toExponential(1)} |`;
    }),
    '',
    `Geometric mean of the ratios: ${fmt(geomean(level), 3)}.`,
    '',
  );
}
lines.push(
  '## Not compared',
  '',
  'onnx-simplifier (PyPI `onnxsim`) is not installed on this machine (Debian\'s python3-onnx has no simplifier), so there is',
  'no side-by-side column. With it installed, `python3 -m onnxsim in.onnx out.onnx` per model would give that column; the',
  'corpus test `packages/conformance/src/__tests__/transforms-numerics.test.ts` checks every pass against ORT meanwhile.',
  '',
);
mkdirSync(dirname(OUT), { recursive: true });
const tmp = `${OUT}.tmp-${process.pid}`;
writeFileSync(tmp, lines.join('\n'));
renameSync(tmp, OUT);
console.log(`wrote ${relative(ROOT, OUT)}`);
