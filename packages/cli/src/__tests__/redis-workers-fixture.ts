/**
 * A real redis-server on a free loopback port and `modelpass worker` processes on it, for the CLI's
 * `--redis` tests. Fails (does not skip) when Debian's redis-server is not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { probeRedis } from '@modelpass/distributed';
import { binPath } from './run-cli.js';

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Everything the worker wrote to stderr so far. */
  log: string;
}

export interface RedisWorkers {
  readonly url: string;
  readonly workers: WorkerProcess[];
  /** Stops the workers, then the server. */
  stop(): Promise<void>;
}

/** A loopback port nothing listens on (at the time of asking). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolvePort(port));
    });
  });
}

/** SIGTERM, then SIGKILL after 10 s; resolves when the process has exited. */
export function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    child.once('exit', () => resolveStop());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

/** Starts redis-server and `count` workers on `queue` (with `workerArgs`), waiting until each says it is ready. */
export async function startRedisWorkers(count: number, queue: string, workerArgs: readonly string[] = []): Promise<RedisWorkers> {
  if (spawnSync('redis-server', ['--version']).error) throw new Error("redis-server is not installed: run 'npm run setup' (installs Debian's redis-server)");
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const workers: WorkerProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(workers.map((w) => stopProcess(w.child)));
    await stopProcess(redis);
  };
  for (let tries = 0; ; tries++) {
    try {
      await probeRedis(url, 500);
      break;
    } catch (error) {
      if (tries > 50) {
        await stop();
        throw error;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, [binPath, 'worker', '--redis', url, '--queue', queue, ...workerArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    const worker: WorkerProcess = { child, log: '' };
    child.stderr!.on('data', (chunk) => (worker.log += chunk));
    workers.push(worker);
  }
  const deadline = Date.now() + 60_000;
  while (!workers.every((w) => /ready, queue/.test(w.log))) {
    if (Date.now() > deadline || workers.some((w) => w.child.exitCode !== null)) {
      const logs = workers.map((w) => w.log).join('\n');
      await stop();
      throw new Error(`workers did not start: ${logs}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, workers, stop };
}
