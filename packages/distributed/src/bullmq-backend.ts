/**
 * Jobs on BullMQ workers through Redis: one queue job per request (its data is the envelope:
 * paths, never tensors), outcomes collected through QueueEvents. Jobs are not retried on failure
 * (a bad dataset fails the same way twice), but a job whose worker died (SIGKILL, lost machine) is
 * stalled: once its lock expires a live worker's stalled-job check puts it back and another worker
 * runs it, writing the same result file, so the outcome does not change.
 */
import type { Job, Queue, QueueEvents } from 'bullmq';
import { createRunFolder, envelopesFor, readReceipt, type JobBackend, type JobOutcome, type RunJobsOptions } from './backend.js';
import { distributedError, messageOf } from './errors.js';
import type { JobEnvelope, JobKind, JobReceipt, JobRequest } from './job-types.js';
import { parseRedisUrl, probeRedis } from './redis-connection.js';

export const DEFAULT_QUEUE = 'modelpass';

export interface BullmqBackendOptions {
  /** `redis://host:port`. */
  readonly redis: string;
  /** Queue name (default `modelpass`); workers must listen on the same one. */
  readonly queue?: string;
  /** Where the run folder goes: storage every worker sees at the same path (default the temp folder). */
  readonly sharedFolder?: string;
  /** How long to wait for a first worker before failing (default 15 s). */
  readonly workerWaitMs?: number;
  /** How long one job may take, queueing included, before the run fails (default 30 min). */
  readonly jobTimeoutMs?: number;
}

export class BullmqBackend implements JobBackend {
  readonly description: string;

  private constructor(
    private readonly options: BullmqBackendOptions,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
  ) {
    this.description = `bullmq ${options.redis} queue '${queue.name}'`;
  }

  static async connect(options: BullmqBackendOptions): Promise<BullmqBackend> {
    await probeRedis(options.redis);
    const connection = parseRedisUrl(options.redis);
    const name = options.queue ?? DEFAULT_QUEUE;
    // BullMQ (with ioredis, ~230 modules) loads only when a run really uses Redis: every CLI command imports this package.
    const { Queue, QueueEvents } = await import('bullmq');
    const queue = new Queue(name, { connection });
    const events = new QueueEvents(name, { connection });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return new BullmqBackend(options, queue, events);
  }

  /** The queues of this server that BullMQ workers listen on (from their Redis client names `bull:<base64 queue>[:w:…]`). */
  private async queuesWithWorkers(): Promise<string[]> {
    const client = (await this.queue.client) as unknown as { call(command: string, ...args: string[]): Promise<unknown> };
    const list = String(await client.call('CLIENT', 'LIST'));
    const queues = new Set<string>();
    for (const match of list.matchAll(/\bname=bull:([A-Za-z0-9+/=]+)(?::w:\S*)?(?=\s|$)/g)) queues.add(Buffer.from(match[1]!, 'base64').toString('utf8'));
    queues.delete(this.queue.name);
    return [...queues].sort();
  }

  /** Waits until at least one worker listens on the queue, or fails naming the queue. */
  private async requireWorker(): Promise<void> {
    const deadline = Date.now() + (this.options.workerWaitMs ?? 15_000);
    for (;;) {
      if ((await this.queue.getWorkersCount()) > 0) return;
      if (Date.now() >= deadline) {
        const others = await this.queuesWithWorkers().catch(() => []);
        throw distributedError({
          reason:
            `no worker listens on queue '${this.queue.name}' at ${this.options.redis}` +
            (others.length > 0 ? ` (workers listen on ${others.map((q) => `'${q}'`).join(', ')}: a --queue mismatch?)` : ''),
          hint: `start workers: modelpass worker --redis ${this.options.redis} --queue ${this.queue.name}`,
          code: 'distributed/no-worker',
        });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async run<K extends JobKind>(jobs: readonly JobRequest<K>[], options: RunJobsOptions<K> = {}): Promise<JobOutcome<K>[]> {
    if (jobs.length === 0) return [];
    await this.requireWorker();
    const folder = createRunFolder(this.options.sharedFolder);
    try {
      const envelopes = envelopesFor(jobs, folder.path);
      const added = await this.queue.addBulk(
        envelopes.map((data: JobEnvelope<K>) => ({
          name: data.kind,
          data,
          opts: { attempts: 1, removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } },
        })),
      );
      const timeout = this.options.jobTimeoutMs ?? 30 * 60_000;
      const watchdog = this.watchRedis();
      try {
        return await Promise.all(
          added.map(async (job: Job, index) => {
            let outcome: JobOutcome<K>;
            try {
              const receipt = (await Promise.race([job.waitUntilFinished(this.events, timeout), watchdog.lost])) as JobReceipt;
              outcome = { ok: true, result: readReceipt<K>(receipt), worker: receipt.worker, seconds: receipt.seconds };
            } catch (error) {
              outcome = { ok: false, error: messageOf(error) };
            }
            options.onSettled?.(index, outcome);
            return outcome;
          }),
        );
      } finally {
        watchdog.stop();
      }
    } finally {
      folder.remove();
    }
  }

  /**
   * ioredis reconnects forever, so a Redis server that goes away mid-run would leave the jobs
   * waiting until their timeout: the server is probed every 2 s, and three failed probes in a row
   * reject `lost` with an error naming it.
   */
  private watchRedis(): { lost: Promise<never>; stop(): void } {
    let failures = 0;
    let fail: (error: Error) => void = () => {};
    const lost = new Promise<never>((_, reject) => (fail = reject));
    lost.catch(() => {});
    const timer = setInterval(() => {
      probeRedis(this.options.redis, 2000).then(
        () => (failures = 0),
        (error: Error) => {
          if (++failures >= 3) fail(distributedError({ reason: `lost the Redis server at ${this.options.redis} while jobs were running: ${error.message}`, code: 'distributed/redis-lost' }));
        },
      );
    }, 2000);
    timer.unref();
    return { lost, stop: () => clearInterval(timer) };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.events.close(), this.queue.close()]);
  }
}
