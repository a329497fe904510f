#!/usr/bin/env node
// Does value_info in an exported ONNX file change ONNX Runtime's latency? For each model it runs the
// real CLI `modelpass convert in.onnx -o out.onnx --pipeline fold-shapes --value-info <policy>`
// once per policy: all (every inferred type written, modelpass's old behaviour), declared (the new
// default: only the value_info the input file had) and none; counts the value_info entries of each
// file, then times the three files in ONNX Runtime in this one process, interleaved A,B,C,A,B,C…,
// one intra-op and one inter-op thread, after warm-up, median of N, ratios against `all`, at each
// ORT graph-optimization level given. Outputs of the three files must be identical.
//
//   npx nx run-many -t build        # the CLI and this script use the built dist of each package
//   node tools/bench/value-info/run.mjs [--pipeline fold-shapes] [--runs 40] [--warmup 5] \
//        [--levels all,disabled] [--models fixture/fashion-transformer,...] [--out tools/bench/value-info/RESULTS.md]
import { execFileSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { Tensor } from '@modelpass/ir';
import { readOnnx, hasDeclaredValueInfo } from '@modelpass/onnx';
import { readTensorFile, toOrtTensor, fromOrtTensor } from '@modelpass/runtime';
import { ensureThirdPartyModels } from '../../fixtures/third-party.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(ROOT, 'packages/cli/dist/bin.js');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const RUNS = Number(flag('runs', '40'));
const WARMUP = Number(flag('warmup', '5'));
const PIPELINE = flag('pipeline', 'fold-shapes');
const LEVELS = flag('levels', 'all,disabled').split(',');
const MODELS = flag('models', 'fixture/fashion-transformer,fixture/fashion-transformer-opset17,third-party/ppocr-mobile-v2-cls,third-party/silero-vad-v5,third-party/ppocr-v4-rec').split(',');
const OUT = resolve(flag('out', join(ROOT, 'tools/bench/value-info/RESULTS.md')));
const POLICIES = ['all', 'declared', 'none'];
if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx nx run-many -t build\` first`);
const WORK = mkdtempSync(join(tmpdir(), 'modelpass-bench-value-info-'));

const cli = (...cliArgs) => execFileSync(process.execPath, [CLI, ...cliArgs], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });

function seeded(seed) {
  let state = seed >>> 0 || 1;
  return () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

async function models() {
  const list = [];
  for (const id of MODELS.filter((m) => m.startsWith('fixture/'))) {
    const dir = join(ROOT, 'fixtures/models', id.slice('fixture/'.length));
    const data = join(dir, 'test_data_set_0');
    const inputs = readdirSync(data).filter((f) => /^input_\d+\.pb$/.test(f)).sort();
    list.push({ id, path: join(dir, 'model.onnx'), inputFiles: inputs.map((f) => join(data, f)) });
  }
  const ids = MODELS.filter((m) => m.startsWith('third-party/')).map((m) => m.slice('third-party/'.length));
  if (ids.length > 0) {
    const entries = await ensureThirdPartyModels({ format: 'onnx', ids, log: null });
    entries.forEach((entry, index) => {
      const random = seeded(99 + index);
      const feeds = {};
      for (const input of entry.inputs) {
        const count = input.testShape.reduce((n, d) => n * d, 1);
        const { kind, low = 0, high = 1, value } = input.fill;
        const values = Array.from({ length: count }, (_, i) => (kind === 'zeros' ? 0 : kind === 'value' ? value[i % value.length] : low + (high - low) * random()));
        feeds[input.name] = Tensor.fromValues(input.dtype, input.testShape, input.dtype === 'int64' ? values.map((v) => BigInt(Math.round(v))) : values);
      }
      list.push({ id: `third-party/${entry.id}`, path: entry.path, feeds });
    });
  }
  return list;
}

/** value_info entries of a file: the values its reader saw declared, subgraphs included. */
function valueInfoCount(path) {
  const model = readOnnx(path);
  let count = 0;
  for (const node of model.graph.allNodes()) for (const value of node.outputs) if (value && hasDeclaredValueInfo(value)) count++;
  return count;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const session = (path, level) =>
  ort.InferenceSession.create(path, { logSeverityLevel: 4, intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: level });

function ortFeeds(s, feeds) {
  return Object.fromEntries(s.inputNames.map((name) => [name, toOrtTensor(ort.Tensor, feeds[name], name)]));
}

async function timeOnce(s, feeds) {
  const start = performance.now();
  await s.run(feeds);
  return performance.now() - start;
}

async function outputsOf(s, feeds) {
  const result = await s.run(feeds);
  return s.outputNames.map((name) => fromOrtTensor(result[name], name).toNumbers());
}

/** The three files interleaved at one ORT level: medians per policy and ratios against `all`. */
async function latency(paths, feeds, level) {
  const sessions = [];
  for (const path of paths) sessions.push(await session(path, level));
  try {
    const fed = sessions.map((s) => ortFeeds(s, feeds));
    // ORT may fuse differently when it knows intermediate shapes, so outputs can differ in the last bits.
    const reference = await outputsOf(sessions[0], fed[0]);
    let diff = 0;
    for (let k = 1; k < sessions.length; k++) {
      const other = await outputsOf(sessions[k], fed[k]);
      reference.forEach((values, o) => values.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - other[o][i])))));
    }
    for (let i = 0; i < WARMUP; i++) for (let k = 0; k < sessions.length; k++) await timeOnce(sessions[k], fed[k]);
    const times = sessions.map(() => []);
    // Rotate which file goes first each round, so no policy always runs right after another.
    for (let i = 0; i < RUNS; i++) {
      for (let j = 0; j < sessions.length; j++) {
        const k = (i + j) % sessions.length;
        times[k].push(await timeOnce(sessions[k], fed[k]));
      }
    }
    const ms = times.map(median);
    return { ms, ratios: ms.map((m) => m / ms[0]), diff };
  } finally {
    for (const s of sessions) await s.release();
  }
}

const rows = [];
for (const entry of await models()) {
  const safe = entry.id.replace(/[^A-Za-z0-9_.-]/g, '_');
  const row = { id: entry.id, sourceValueInfo: valueInfoCount(entry.path), files: [] };
  for (const policy of POLICIES) {
    const out = join(WORK, `${safe}.${policy}.onnx`);
    cli('convert', entry.path, '-o', out, '--pipeline', PIPELINE, '--value-info', policy);
    row.files.push({ policy, path: out, bytes: statSync(out).size, valueInfo: valueInfoCount(out) });
  }
  const feeds =
    entry.feeds ??
    (await (async () => {
      const s = await session(entry.path, 'disabled');
      const names = s.inputNames;
      await s.release();
      return Object.fromEntries(names.map((name, i) => [name, readTensorFile(entry.inputFiles[i])]));
    })());
  row.levels = {};
  for (const level of LEVELS) {
    try {
      row.levels[level] = await latency(row.files.map((f) => f.path), feeds, level);
    } catch (error) {
      row.levels[level] = { error: String(error.message ?? error).split('\n')[0] };
    }
  }
  rows.push(row);
  console.log(
    `${row.id}: value_info ${row.files.map((f) => `${f.policy}=${f.valueInfo}`).join(' ')}; ` +
      LEVELS.map((l) => (row.levels[l].error ? `${l}: ${row.levels[l].error}` : `${l}: ${row.levels[l].ms.map((m) => m.toFixed(3)).join(' / ')} ms`)).join('; '),
  );
}
rmSync(WORK, { recursive: true, force: true });

const fmt = (v, digits = 3) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits));
const ortVersion = JSON.parse(readFileSync(join(ROOT, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version;
const command = `node tools/bench/value-info/run.mjs --pipeline ${PIPELINE} --runs ${RUNS} --warmup ${WARMUP} --levels ${LEVELS.join(',')} --models ${MODELS.join(',')}`;
const geomean = (level, k) => {
  const ratios = rows.map((r) => r.levels[level]?.ratios?.[k]).filter((x) => x > 0);
  return ratios.length ? Math.exp(ratios.reduce((n, x) => n + Math.log(x), 0) / ratios.length) : NaN;
};
const lines = [
  '# value_info and ONNX Runtime latency',
  '',
  `Generated on ${new Date().toISOString().slice(0, 10)} by`,
  '',
  '```',
  'npx nx run-many -t build',
  command,
  '```',
  '',
  `Each model is converted by the real CLI with \`--pipeline ${PIPELINE}\` (which runs shape inference) three times:`,
  '`--value-info all` (every inferred type written, the writer\'s old behaviour), `declared` (the new default: only',
  'the value_info entries the input file had) and `none`. The three files differ only in value_info; the last column',
  `is the largest output difference between them (ORT may fuse differently when it knows intermediate shapes). Latency: onnxruntime-node ${ortVersion} on CPU in one Node ${process.version} process`,
  `(${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}), one intra-op and one inter-op thread, sequential; the three`,
  `sessions alternate all, declared, none, …, ${WARMUP} warm-up rounds, then the median of ${RUNS} runs each. Ratios are`,
  'against `all` (below 1: faster than writing every inferred value_info). Shared machines are noisy: read ratios',
  'within a row and treat ±5% as noise. When a source has no value_info, `declared` and `none` write identical',
  'files, so the gap between those two columns is the noise floor of that row.',
  '',
  '| model | value_info in source | all: entries / bytes | declared: entries / bytes | none: bytes |',
  '|---|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.id} | ${r.sourceValueInfo} | ${r.files[0].valueInfo} / ${r.files[0].bytes} | ${r.files[1].valueInfo} / ${r.files[1].bytes} | ${r.files[2].bytes} |`),
  '',
];
for (const level of LEVELS) {
  lines.push(`## ORT graph optimization level \`${level}\``, '', '| model | all ms | declared ms | none ms | declared / all | none / all | max \\|Δ output\\| |', '|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const l = r.levels[level];
    lines.push(l.error ? `| ${r.id} | ${l.error} | | | | | |` : `| ${r.id} | ${fmt(l.ms[0])} | ${fmt(l.ms[1])} | ${fmt(l.ms[2])} | ${fmt(l.ratios[1])} | ${fmt(l.ratios[2])} | ${l.diff.toExponential(1)} |`);
  }
  lines.push(`| **geometric mean** | | | | **${fmt(geomean(level, 1))}** | **${fmt(geomean(level, 2))}** | |`, '');
}
writeFileSync(OUT, lines.join('\n'));
console.log(`wrote ${OUT}`);
