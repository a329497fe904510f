// What the quantization bench's parts share: the built CLI, which quantization passes it has, ONNX's
// checker, ORT sessions (one thread) with interleaved A/B medians, ORT's optimized graph (did it
// fuse every QDQ group?) and output cosine. Timing helpers come from the prune bench (ort-timing.mjs).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { CLI as REPO_CLI, ROOT, flag, interleavedLatencies, median, session } from '../prune/ort-timing.mjs';

export { ROOT, flag, median, session };

/**
 * The CLI the bench runs: the repository's build, or `--cli PATH`, e.g. a copy of the built packages
 * taken before a long run, so that others rebuilding a package meanwhile cannot break it halfway.
 */
export const CLI = flag('cli', undefined) ? resolve(flag('cli')) : REPO_CLI;

export const PYTHON = '/usr/bin/python3';
const FACTS = join(ROOT, 'tools/bench/quantize/onnx_facts.py');

/**
 * Runs the built CLI; returns stdout. Throws with the CLI's first error line on failure. A CLI
 * whose packages are being rebuilt by someone else at that moment (ERR_MODULE_NOT_FOUND under a
 * dist folder) is retried after a pause, up to 5 times.
 */
export function cli(...args) {
  for (let attempt = 0; ; attempt++) {
    try {
      return execFileSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      const text = String(error.stderr || error.message);
      if (attempt < 5 && /ERR_MODULE_NOT_FOUND|Cannot find module .*\/dist\//.test(text)) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20_000);
        continue;
      }
      const lines = text.trim().split('\n').filter((l) => l.trim() !== '');
      const reason = lines.find((l) => /error|expected|refus|not /i.test(l)) ?? lines[0] ?? 'failed';
      throw new Error(reason.trim());
    }
  }
}

/** Names of the passes the built CLI registers. */
export function registeredPasses() {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`NX_DAEMON=false npx nx run @modelpass/cli:build\` first`);
  return new Set(JSON.parse(cli('passes', '--json')).map((p) => p.name));
}

/** The first pass name of a pipeline that the CLI does not have, or undefined. */
export function missingPass(pipeline, passes) {
  for (const match of pipeline.matchAll(/(?:^|,)\s*([a-z0-9-]+)/g)) {
    if (!passes.has(match[1])) return match[1];
  }
  return undefined;
}

/**
 * `modelpass convert IN -o OUT --pipeline P --json`: the wall time and the time of the pass named
 * `timedPass` (from the summary's per-pass timings), or an error message.
 */
export function convert(input, output, pipeline, timedPass) {
  const started = performance.now();
  try {
    const summary = JSON.parse(cli('convert', input, '-o', output, '--pipeline', pipeline, '--json', '--no-summary'));
    const wallSeconds = (performance.now() - started) / 1000;
    const pass = (summary.passes ?? []).find((p) => p.name === timedPass || p.pass === timedPass);
    const passMs = pass?.ms ?? pass?.timeMs ?? pass?.durationMs ?? (pass?.seconds !== undefined ? pass.seconds * 1000 : undefined);
    return { ok: true, wallSeconds, passSeconds: passMs !== undefined ? passMs / 1000 : undefined, statistics: pass?.statistics, summary };
  } catch (error) {
    return { ok: false, error: error.message };
  }
}

/**
 * ONNX's checker (full_check) on each file and, for `optimized` files (ORT's optimized graphs), the
 * DequantizeLinear nodes still feeding a Conv/MatMul/Gemm (a QDQ group ORT did not fuse).
 */
export function onnxFacts(checked, optimized = []) {
  const out = execFileSync(PYTHON, [FACTS, '--check', ...checked, '--unfused', ...optimized], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out);
}

/** A one-thread ORT session that also writes its optimized graph (all optimizations) to `optimizedPath`. */
export async function writeOptimizedGraph(path, optimizedPath) {
  const s = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3, optimizedModelFilePath: optimizedPath });
  await s.release();
}

/**
 * Latencies (ms) of two models on the same feeds, interleaved in one process (the order alternates
 * each round): medians `a`, `b` and minimums `aMin`, `bMin`. On a shared machine the minimum is the
 * least disturbed run; a ratio that holds for both is worth reading.
 */
export async function latencyPair(pathA, pathB, feeds, { warmup, runs }) {
  const [a, b] = [await session(pathA), await session(pathB)];
  try {
    return await interleavedLatencies(a, b, feeds, { warmup, runs });
  } finally {
    await a.release();
    await b.release();
  }
}

/** Cosine similarity of two float arrays. */
export function cosine(x, y) {
  let dot = 0;
  let nx = 0;
  let ny = 0;
  for (let i = 0; i < x.length; i++) {
    dot += x[i] * y[i];
    nx += x[i] * x[i];
    ny += y[i] * y[i];
  }
  return dot / Math.sqrt(nx * ny);
}

/** The smallest per-sample cosine between the first outputs of two models on the same feeds. */
export async function minOutputCosine(pathA, pathB, feeds, samples) {
  const [a, b] = [await session(pathA), await session(pathB)];
  try {
    const ya = (await a.run(feeds))[a.outputNames[0]];
    const yb = (await b.run(feeds))[b.outputNames[0]];
    const per = ya.data.length / samples;
    let min = Infinity;
    for (let s = 0; s < samples; s++) min = Math.min(min, cosine(ya.data.subarray(s * per, (s + 1) * per), yb.data.subarray(s * per, (s + 1) * per)));
    return min;
  } finally {
    await a.release();
    await b.release();
  }
}

/**
 * Where ORT spends a model's time: median milliseconds per run of each node kernel (ORT's profiler,
 * one thread, `runs` runs on `feeds`), the `top` slowest as [node, op, ms].
 */
export async function kernelProfile(path, feeds, { runs = 20, top = 4, work }) {
  const prefix = join(work, `profile-${process.pid}-${Date.now()}`);
  const s = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3, enableProfiling: true, profileFilePrefix: prefix });
  try {
    for (let i = 0; i < runs; i++) await s.run(feeds);
    s.endProfiling();
  } finally {
    await s.release();
  }
  const file = readdirSync(work).map((f) => join(work, f)).find((f) => f.startsWith(prefix));
  if (!file) throw new Error(`ORT wrote no profile for ${path}`);
  const durations = new Map();
  for (const event of JSON.parse(readFileSync(file, 'utf8'))) {
    if (event.cat !== 'Node' || !event.name.endsWith('_kernel_time')) continue;
    const key = `${event.name.replace(/_kernel_time$/, '')}\u0000${event.args?.op_name ?? '?'}`;
    durations.set(key, [...(durations.get(key) ?? []), event.dur / 1000]);
  }
  rmSync(file, { force: true });
  // The first run of a session pays one-time costs (allocations, packing): leave it out.
  const perRun = [...durations].map(([key, times]) => [key, median(times.length > 1 ? times.slice(1) : times)]);
  return perRun.sort((a, b) => b[1] - a[1]).slice(0, top).map(([key, msPerRun]) => [...key.split('\u0000'), msPerRun]);
}

/**
 * Summed ORT kernel time (ms per run) of two models on the same feeds: one-thread profiled sessions,
 * runs interleaved (the order alternates), each node's fastest run after the first two, summed per
 * model (`a`, `b`; the sums of per-node medians in `aMedian`, `bMedian`). On a loaded shared machine
 * preemption stretches whole runs and long kernels (even their medians); a node kernel is short, so
 * among `runs` runs it is almost always once undisturbed: the ratio of these sums is the steadier figure.
 */
export async function kernelTimePair(pathA, pathB, feeds, { runs = 20, work }) {
  const sessions = [];
  for (const [i, path] of [pathA, pathB].entries()) {
    const prefix = join(work, `kernels-${process.pid}-${Date.now()}-${i}`);
    sessions.push({ prefix, s: await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3, enableProfiling: true, profileFilePrefix: prefix }) });
  }
  const sums = [];
  try {
    for (let round = 0; round < runs + 2; round++) for (const entry of round % 2 ? sessions : [...sessions].reverse()) await entry.s.run(feeds);
  } finally {
    for (const entry of sessions) {
      entry.s.endProfiling();
      await entry.s.release();
    }
  }
  for (const entry of sessions) {
    const file = readdirSync(work).map((f) => join(work, f)).find((f) => f.startsWith(entry.prefix));
    if (!file) throw new Error(`ORT wrote no profile (${entry.prefix})`);
    const perNode = new Map();
    for (const event of JSON.parse(readFileSync(file, 'utf8'))) {
      if (event.cat !== 'Node' || !event.name.endsWith('_kernel_time')) continue;
      perNode.set(event.name, [...(perNode.get(event.name) ?? []), event.dur / 1000]);
    }
    rmSync(file, { force: true });
    const steady = [...perNode.values()].map((times) => (times.length > 2 ? times.slice(2) : times));
    sums.push({ min: steady.reduce((total, times) => total + Math.min(...times), 0), median: steady.reduce((total, times) => total + median(times), 0) });
  }
  return { a: sums[0].min, b: sums[1].min, aMedian: sums[0].median, bMedian: sums[1].median };
}

export const fileBytes = (path) => statSync(path).size;

/** Numbers measured by another script of this bench (e.g. calibration-memory.mjs), when it left a JSON file. */
export function readJsonIfPresent(path) {
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
}
