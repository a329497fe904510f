/** Jobs run in this process, one at a time (or `concurrency` at once): no Redis, nothing to start. */
import { createRunFolder, envelopesFor, readReceipt, type JobBackend, type JobOutcome, type RunJobsOptions } from './backend.js';
import { messageOf } from './errors.js';
import { runJob, type JobHandlers } from './job-handlers.js';
import { defaultJobHandlers } from './default-handlers.js';
import type { JobKind, JobRequest } from './job-types.js';
import { releaseWorkerSessions } from './worker-sessions.js';

export interface EmbeddedBackendOptions {
  readonly handlers?: JobHandlers;
  /** Jobs in flight at once (default 1: ONNX Runtime already uses every core). */
  readonly concurrency?: number;
  /** Where result files go (default the system's temp folder). */
  readonly sharedFolder?: string;
}

export class EmbeddedBackend implements JobBackend {
  readonly description = 'embedded (in this process)';
  private readonly handlers: JobHandlers;
  private readonly concurrency: number;

  constructor(private readonly options: EmbeddedBackendOptions = {}) {
    this.handlers = options.handlers ?? defaultJobHandlers();
    this.concurrency = Math.max(1, options.concurrency ?? 1);
  }

  async run<K extends JobKind>(jobs: readonly JobRequest<K>[], options: RunJobsOptions<K> = {}): Promise<JobOutcome<K>[]> {
    const folder = createRunFolder(this.options.sharedFolder);
    try {
      const envelopes = envelopesFor(jobs, folder.path);
      const outcomes: JobOutcome<K>[] = new Array(jobs.length);
      let next = 0;
      const lane = async () => {
        while (next < envelopes.length) {
          const index = next++;
          let outcome: JobOutcome<K>;
          try {
            const receipt = await runJob(this.handlers, envelopes[index]);
            outcome = { ok: true, result: readReceipt<K>(receipt), worker: receipt.worker, seconds: receipt.seconds };
          } catch (error) {
            outcome = { ok: false, error: messageOf(error) };
          }
          outcomes[index] = outcome;
          options.onSettled?.(index, outcome);
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.concurrency, jobs.length) }, lane));
      return outcomes;
    } finally {
      folder.remove();
    }
  }

  /** Frees the sessions the handlers kept open between jobs. */
  async close(): Promise<void> {
    await releaseWorkerSessions();
  }
}
