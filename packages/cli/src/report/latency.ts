/**
 * `convert --latency[=RUNS]`: median wall time of one inference of the original and of the output
 * model in ONNX Runtime (its default, fully optimized session: what a deployment runs), on the same
 * seeded random inputs (symbolic dims 1), runs interleaved so both see the same machine load, after
 * warm-up runs.
 */
import { performance } from 'node:perf_hooks';
import type { Model } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { generateInputs, OrtRunner } from '@modelpass/runtime';
import type { LatencyFigure } from '@modelpass/report';

export const DEFAULT_LATENCY_RUNS = 20;
const WARMUP_RUNS = 3;

function figure(times: number[], batch: number | undefined): LatencyFigure {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  return {
    medianMs: round(median),
    meanMs: round(times.reduce((s, t) => s + t, 0) / times.length),
    p90Ms: round(at(0.9)),
    runs: times.length,
    ...(batch !== undefined ? { batch } : {}),
    engine: 'onnxruntime',
  };
}

/** Latency of `before` (ONNX bytes of the original) and `after`, `runs` timed runs each. */
export async function measureLatency(original: Model, before: Uint8Array, after: Model, runs: number): Promise<{ before: LatencyFigure; after: LatencyFigure }> {
  const feeds = generateInputs(original, { seed: 0, defaultDim: 1 });
  const batch = [...feeds.values()][0]?.shape[0];
  const afterBytes = encodeOnnx(after);
  const runner = new OrtRunner({ maxSessions: 2 });
  try {
    const times: [number[], number[]] = [[], []];
    const models = [before, afterBytes] as const;
    for (let i = 0; i < WARMUP_RUNS + runs; i++) {
      for (const side of [0, 1] as const) {
        const start = performance.now();
        await runner.run(models[side], feeds);
        if (i >= WARMUP_RUNS) times[side].push(performance.now() - start);
      }
    }
    return { before: figure(times[0], batch), after: figure(times[1], batch) };
  } finally {
    await runner.dispose();
  }
}
