/**
 * Test helpers: a real redis-server on a free loopback port (no persistence), and worker processes
 * (the package's built `dist/worker-main.js`). A missing redis-server fails with what to install.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { probeRedis } from '@modelpass/distributed';

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolvePort(port));
    });
  });
}

export interface RedisServer {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error("redis-server is not installed: run 'npm run setup' (installs Debian's redis-server) or apt-get install redis-server");
  }
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await probeRedis(url, 500);
      break;
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`redis-server did not start on port ${port}: ${output.slice(-500)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, stop: () => stopProcess(child) };
}

export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveStop();
    });
    child.kill(signal);
  });
}

export const WORKER_MAIN = fileURLToPath(new URL('../../dist/worker-main.js', import.meta.url));

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far. */
  readonly log: () => string;
  /** Resolves with the first match of `pattern` in what it printed from offset `from` on. */
  waitFor(pattern: RegExp, timeoutMs?: number, from?: number): Promise<RegExpExecArray>;
}

export function spawnWorker(redis: string, queue: string, extra: readonly string[] = []): WorkerProcess {
  if (!existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} is missing: build first (npx nx run @modelpass/distributed:build)`);
  const child = spawn(process.execPath, [WORKER_MAIN, '--redis', redis, '--queue', queue, ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' } });
  let text = '';
  const waiters: (() => void)[] = [];
  const append = (chunk: Buffer) => {
    text += chunk.toString();
    for (const waiter of [...waiters]) waiter();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  child.on('exit', () => {
    for (const waiter of [...waiters]) waiter();
  });
  return {
    child,
    log: () => text,
    waitFor(pattern, timeoutMs = 60_000, from = 0) {
      return new Promise((resolveMatch, reject) => {
        const check = () => {
          const match = pattern.exec(text.slice(from));
          if (match) {
            done();
            resolveMatch(match);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`worker exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}: ${text.slice(-800)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`worker did not print ${pattern} within ${timeoutMs} ms: ${text.slice(-800)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(check), 1);
        };
        waiters.push(check);
        check();
      });
    },
  };
}
