/**
 * `redis://[user:password@]host[:port][/db]` → connection options, and a probe that answers within
 * a timeout: ioredis retries an unreachable server forever, so every entry point checks first and
 * fails with the URL and the reason instead of hanging.
 */
import { connect } from 'node:net';
import { distributedError } from './errors.js';

export interface RedisConnection {
  readonly host: string;
  readonly port: number;
  readonly db?: number;
  readonly username?: string;
  readonly password?: string;
  /** Required by BullMQ workers: commands wait for a reconnect instead of failing after N retries. */
  readonly maxRetriesPerRequest: null;
}

export function parseRedisUrl(url: string): RedisConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw distributedError({ reason: `'${url}' is not a Redis URL`, expected: 'redis://host:port (e.g. redis://127.0.0.1:6379)', code: 'distributed/redis-url' });
  }
  if (parsed.protocol !== 'redis:') throw distributedError({ reason: `'${url}' is not a Redis URL`, expected: 'redis://host:port', actual: parsed.protocol, code: 'distributed/redis-url' });
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? undefined : Number(dbText);
  if (db !== undefined && !(Number.isInteger(db) && db >= 0)) throw distributedError({ reason: `Redis URL '${url}' names database '${dbText}'`, expected: 'a database number, e.g. redis://host:6379/0', code: 'distributed/redis-url' });
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port,
    ...(db !== undefined ? { db } : {}),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    maxRetriesPerRequest: null,
  };
}

/** Resolves when a Redis server answers PING at `url` (or asks for a password); throws a clear error otherwise. */
export async function probeRedis(url: string, timeoutMs = 3000): Promise<void> {
  const { host, port } = parseRedisUrl(url);
  await new Promise<void>((resolvePromise, reject) => {
    const socket = connect({ host, port });
    let answer = '';
    const fail = (why: string) => {
      socket.destroy();
      reject(distributedError({
        reason: `no Redis server answers at ${url}: ${why}`,
        hint: "start one (redis-server --port 6379) or pass the right --redis URL; Debian's package is redis-server",
        code: 'distributed/redis-unreachable',
      }));
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      fail((error as NodeJS.ErrnoException).code ?? error.message);
    });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (!answer.includes('\r\n')) return;
      clearTimeout(timer);
      socket.end();
      if (answer.startsWith('+PONG') || answer.startsWith('-NOAUTH')) resolvePromise();
      else fail(`it answered '${answer.trim().slice(0, 80)}' to PING, not +PONG`);
    });
  });
}
