// What the pruning benchmarks (run.mjs, torchvision.mjs) share: their command-line flags, the repo
// paths, one-thread ONNX Runtime sessions and A/B latency medians measured interleaved (the order
// alternates each round, so slow phases of a shared machine hit both alike).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = join(ROOT, 'packages/cli/dist/bin.js');

/** `--name value` from the command line, or `fallback`. */
export function flag(name, fallback) {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** An ONNX Runtime session on one intra-op and one inter-op thread, all graph optimizations. */
export const session = (path) => ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 });

/** Median latency (ms) of sessions A and B on the same feeds (`a`, `b`; minimums `aMin`, `bMin`): `warmup` rounds, then `runs` timed ones. */
export async function interleavedLatencies(a, b, feeds, { warmup, runs }) {
  const times = { a: [], b: [] };
  for (let i = 0; i < warmup + runs; i++) {
    for (const [key, s] of i % 2 ? [['a', a], ['b', b]] : [['b', b], ['a', a]]) {
      const start = performance.now();
      await s.run(feeds);
      if (i >= warmup) times[key].push(performance.now() - start);
    }
  }
  return { a: median(times.a), b: median(times.b), aMin: Math.min(...times.a), bMin: Math.min(...times.b) };
}
