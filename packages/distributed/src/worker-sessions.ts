/**
 * The sessions a process's job handlers keep between jobs: calibration's activation collectors
 * (model copy with extra outputs + its ORT session) and evaluation's ORT sessions, two models each.
 * `releaseWorkerSessions()` frees them (a worker's and the embedded backend's `close()` call it).
 */
import type { Model } from '@modelpass/ir';
import type { ActivationCollector } from '@modelpass/quantize';
import { OrtRunner } from '@modelpass/runtime';
import { SessionCache, type SessionCacheStats } from './session-cache.js';

/** Models (by file identity and requested tensors) whose calibration sessions stay open. */
export const CACHED_CALIBRATION_MODELS = 2;
/** Models whose evaluation sessions stay open (OrtRunner's own LRU, keyed by path, mtime and size). */
export const CACHED_EVALUATION_MODELS = 2;

export interface CalibrationSession {
  readonly model: Model;
  readonly collector: ActivationCollector;
}

export const calibrationSessions = new SessionCache<CalibrationSession>(CACHED_CALIBRATION_MODELS, (session) => session.collector.dispose());

let evaluationRunner: OrtRunner | undefined;

/** The ORT engine evaluation shards share (sessions cached per model file). */
export function evaluationEngine(): OrtRunner {
  evaluationRunner ??= new OrtRunner({ maxSessions: CACHED_EVALUATION_MODELS });
  return evaluationRunner;
}

export interface WorkerSessionStats {
  readonly calibration: SessionCacheStats;
  /** ORT sessions open for evaluation now. */
  readonly evaluationSessions: number;
}

export function workerSessionStats(): WorkerSessionStats {
  return { calibration: calibrationSessions.stats, evaluationSessions: evaluationRunner?.cachedSessions ?? 0 };
}

/** Closes every cached session (those of running jobs when their jobs end). */
export async function releaseWorkerSessions(): Promise<void> {
  await calibrationSessions.clear();
  const runner = evaluationRunner;
  evaluationRunner = undefined;
  await runner?.dispose();
}
