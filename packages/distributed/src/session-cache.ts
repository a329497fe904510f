/**
 * What a worker keeps open between jobs: ORT sessions (and the model read for them) keyed by the
 * model file's identity (path, size, mtime, inode) and the job's own key, so the shards of one run
 * that land on the same worker open the model once (~80 ms a session for fashion-cnn) instead of
 * once per shard. A small LRU: an entry pushed out is disposed once no running job uses it, and a
 * rewritten file (new mtime or size) is a new key, never a stale session.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';

interface Entry<T> {
  readonly value: Promise<T>;
  users: number;
  evicted: boolean;
}

export interface SessionCacheStats {
  readonly opened: number;
  readonly reused: number;
  readonly cached: number;
}

export class SessionCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private opened = 0;
  private reused = 0;

  constructor(
    private readonly capacity: number,
    private readonly dispose: (value: T) => Promise<void> | void,
  ) {}

  /** The key of `file` as it is now on disk, plus `extra` (e.g. the tensors a session fetches). */
  static fileKey(file: string, extra = ''): string {
    const path = resolve(file);
    const stats = statSync(path);
    return `${path}\0${stats.size}\0${stats.mtimeMs}\0${stats.ino}\0${extra}`;
  }

  /** Runs `body` with the cached value for `key` (opened with `open` when missing). */
  async use<R>(key: string, open: () => Promise<T>, body: (value: T) => Promise<R>): Promise<R> {
    let entry = this.entries.get(key);
    if (entry) {
      this.reused++;
      this.entries.delete(key);
      this.entries.set(key, entry);
    } else {
      this.opened++;
      entry = { value: open(), users: 0, evicted: false };
      this.entries.set(key, entry);
      const created = entry;
      created.value.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
      this.evictOverflow();
    }
    entry.users++;
    try {
      return await body(await entry.value);
    } finally {
      entry.users--;
      if (entry.evicted && entry.users === 0) await this.release(entry);
    }
  }

  get stats(): SessionCacheStats {
    return { opened: this.opened, reused: this.reused, cached: this.entries.size };
  }

  /** Disposes every entry no job uses now (the rest when their jobs end). */
  async clear(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const entry of entries) {
      entry.evicted = true;
      if (entry.users === 0) await this.release(entry);
    }
  }

  private evictOverflow(): void {
    while (this.entries.size > this.capacity) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Entry<T>];
      this.entries.delete(oldestKey);
      oldest.evicted = true;
      if (oldest.users === 0) void this.release(oldest);
    }
  }

  private async release(entry: Entry<T>): Promise<void> {
    try {
      await this.dispose(await entry.value);
    } catch {
      // A session that failed to open or to close has nothing left to free.
    }
  }
}
