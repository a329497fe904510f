/**
 * A BullMQ worker that runs modelpass jobs. Short locks make a dead worker's job come back sooner
 * (the lock must outlive the event-loop stalls of one ORT run: BullMQ renews it from a timer).
 */
import { DEFAULT_QUEUE } from './bullmq-backend.js';
import { defaultJobHandlers } from './default-handlers.js';
import { runJob, type JobHandlers } from './job-handlers.js';
import { parseRedisUrl, probeRedis } from './redis-connection.js';
import { releaseWorkerSessions } from './worker-sessions.js';

export interface WorkerOptions {
  readonly redis: string;
  readonly queue?: string;
  /** Jobs run at once in this process (default 1). */
  readonly concurrency?: number;
  readonly handlers?: JobHandlers;
  /** Lock of a running job, renewed at half this (default BullMQ's 30 s). */
  readonly lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (default BullMQ's 30 s). */
  readonly stalledIntervalMs?: number;
  /** Times a job may stall (its worker died) before it fails (default 2). */
  readonly maxStalledCount?: number;
  /** One line per job started, finished or failed. */
  readonly log?: (line: string) => void;
}

export interface RunningWorker {
  /** Waits for running jobs to finish, then disconnects. */
  close(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  await probeRedis(options.redis);
  const handlers = options.handlers ?? defaultJobHandlers();
  const log = options.log ?? (() => {});
  const { Worker } = await import('bullmq'); // loaded only here: see BullmqBackend.connect
  const worker = new Worker(
    options.queue ?? DEFAULT_QUEUE,
    async (job) => {
      log(`job ${job.id} ${job.name} started`);
      const receipt = await runJob(handlers, job.data);
      log(`job ${job.id} ${job.name} finished in ${receipt.seconds.toFixed(2)} s`);
      return receipt;
    },
    {
      connection: parseRedisUrl(options.redis),
      concurrency: Math.max(1, options.concurrency ?? 1),
      ...(options.lockDurationMs !== undefined ? { lockDuration: options.lockDurationMs } : {}),
      ...(options.stalledIntervalMs !== undefined ? { stalledInterval: options.stalledIntervalMs } : {}),
      maxStalledCount: options.maxStalledCount ?? 2,
    },
  );
  worker.on('failed', (job, error) => log(`job ${job?.id} ${job?.name} failed: ${error.message.split('\n')[0]}`));
  worker.on('error', (error) => log(`worker error: ${error.message}`));
  await worker.waitUntilReady();
  return {
    close: async () => {
      await worker.close();
      await releaseWorkerSessions();
    },
  };
}
