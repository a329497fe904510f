/**
 * One interface for where jobs run: in this process (`EmbeddedBackend`, the default, no Redis) or
 * on BullMQ workers (`BullmqBackend`). The caller hands over requests and gets outcomes back in
 * the same order; results travel as files in a run folder on shared storage.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { distributedError } from './errors.js';
import type { JobEnvelope, JobKind, JobKinds, JobReceipt, JobRequest } from './job-types.js';

export type JobOutcome<K extends JobKind = JobKind> =
  | { readonly ok: true; readonly result: JobKinds[K]['result']; readonly worker: string; readonly seconds: number }
  | { readonly ok: false; readonly error: string };

export interface RunJobsOptions<K extends JobKind = JobKind> {
  /** Called as each job settles (index in the request list). */
  readonly onSettled?: (index: number, outcome: JobOutcome<K>) => void;
}

export interface JobBackend {
  /** `embedded`, or `bullmq redis://host:port queue NAME`, for messages. */
  readonly description: string;
  /** Runs the jobs; outcomes in request order. A job that fails is an outcome, not a throw. */
  run<K extends JobKind>(jobs: readonly JobRequest<K>[], options?: RunJobsOptions<K>): Promise<JobOutcome<K>[]>;
  close(): Promise<void>;
}

/** The folder shared by the coordinator and every worker (default: the system's temp folder). */
export function defaultSharedFolder(): string {
  return join(tmpdir(), 'modelpass-shared');
}

/** A fresh folder for one run's model copies and result files, inside `sharedFolder`. */
export function createRunFolder(sharedFolder: string = defaultSharedFolder()): { path: string; remove(): void } {
  const base = resolve(sharedFolder);
  mkdirSync(base, { recursive: true });
  const path = mkdtempSync(join(base, 'run-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Envelopes for `jobs`, each with its own result file in `runFolder`. */
export function envelopesFor<K extends JobKind>(jobs: readonly JobRequest<K>[], runFolder: string): JobEnvelope<K>[] {
  return jobs.map((job, index) => ({ ...job, resultPath: join(runFolder, `result-${String(index).padStart(5, '0')}-${job.kind}.json`) }));
}

/** The result a receipt points at. */
export function readReceipt<K extends JobKind>(receipt: JobReceipt): JobKinds[K]['result'] {
  try {
    return JSON.parse(readFileSync(receipt.resultPath, 'utf8')) as JobKinds[K]['result'];
  } catch (error) {
    throw distributedError({
      reason: `cannot read the result file '${receipt.resultPath}' of a job worker ${receipt.worker} finished: ${(error as Error).message}`,
      hint: 'the coordinator and every worker must see the same shared folder (--shared DIR on shared storage)',
      location: { file: receipt.resultPath },
    });
  }
}
