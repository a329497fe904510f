/**
 * The job-kind registry: one handler per kind. A handler computes a result from a job's data;
 * `runJob` writes the result atomically (temporary file, then rename) to the envelope's path and
 * returns the receipt that goes back through the queue.
 */
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { writeFileAtomic } from '@modelpass/ir';
import { distributedError } from './errors.js';
import { JOB_KINDS, type JobEnvelope, type JobKind, type JobKinds, type JobReceipt } from './job-types.js';

export type JobHandler<K extends JobKind> = (data: JobKinds[K]['data']) => Promise<JobKinds[K]['result']>;

/** A handler for each kind a worker runs. */
export type JobHandlers = { readonly [K in JobKind]?: JobHandler<K> };

/** Refuses an envelope that is not a job (a queue shared with something else, a hand-made job). */
export function checkEnvelope(value: unknown): JobEnvelope {
  const envelope = value as Partial<JobEnvelope> | null;
  if (!envelope || typeof envelope !== 'object' || !JOB_KINDS.includes(envelope.kind as JobKind) || typeof envelope.resultPath !== 'string' || typeof envelope.data !== 'object' || envelope.data === null) {
    throw distributedError({ reason: 'job data is not a modelpass job', expected: `{ kind: ${JOB_KINDS.join(' | ')}, data, resultPath }`, actual: JSON.stringify(value)?.slice(0, 200) ?? String(value) });
  }
  return envelope as JobEnvelope;
}

/** Runs one job with `handlers` and writes its result file; the receipt names it. */
export async function runJob(handlers: JobHandlers, value: unknown): Promise<JobReceipt> {
  const envelope = checkEnvelope(value);
  const handler = handlers[envelope.kind] as JobHandler<JobKind> | undefined;
  if (!handler) throw distributedError({ reason: `this worker has no handler for '${envelope.kind}' jobs`, expected: Object.keys(handlers).join(', ') });
  const started = performance.now();
  const result = await handler(envelope.data as never);
  writeFileAtomic(envelope.resultPath, JSON.stringify(result));
  statSync(envelope.resultPath);
  return { resultPath: envelope.resultPath, worker: `${hostname()}:${process.pid}`, seconds: (performance.now() - started) / 1000 };
}
