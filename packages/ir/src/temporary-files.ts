import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Temporary files and folders that writers create beside their destination before renaming them
 * into place. Every one is registered while it exists, so that:
 *
 * - SIGINT, SIGTERM and SIGHUP remove the ones in flight and then re-raise the signal (the process
 *   still dies of it, with the usual exit code);
 * - `process.exit()` mid-write removes them too;
 * - a `kill -9`, which nothing can catch, leaves one behind, but its name carries the pid
 *   (`.<name>.<pid>.<unique>.tmp`), and the next write to the same destination removes the ones
 *   whose process is gone (`removeStaleTemporaries`).
 *
 * Writers of other formats (ONNX model + data pairs, reproducer folders) use the same registry:
 * `claimTemporaryPath` before writing, `releaseTemporaryPath` after the rename or removal.
 */

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const inFlight = new Set<string>();
let handlersInstalled = false;
let sequence = 0;

function removeInFlight(): void {
  for (const path of inFlight) {
    try {
      rmSync(path, { recursive: true, force: true });
    } catch {
      // Best effort while dying: a temp we cannot remove is found as stale by the next write.
    }
  }
  inFlight.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  removeInFlight();
  // When nobody else listens, die of the signal as if we had never caught it.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // Installed once for the life of the process: removing a signal listener while a signal is
  // pending would drop it, so Ctrl-C would be lost.
  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.on('exit', removeInFlight);
}

/** The pid a temporary name beside `destination` carries, or undefined when it is not one. */
function pidOfTemporary(name: string, destinationName: string): number | undefined {
  const prefix = `.${destinationName}.`;
  if (!name.startsWith(prefix) || !name.endsWith('.tmp')) return undefined;
  const match = /^(\d+)\.[0-9a-z-]+\.tmp$/.exec(name.slice(prefix.length));
  return match ? Number(match[1]) : undefined;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temporary files and folders beside `destination` left by processes that no longer run
 * (a `kill -9`, a power cut). Returns the paths removed. Ones of live processes, this one
 * included, are left alone.
 */
export function removeStaleTemporaries(destination: string): string[] {
  const folder = dirname(destination);
  const name = basename(destination);
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const pid = pidOfTemporary(entry, name);
    if (pid === undefined || isAlive(pid)) continue;
    const path = join(folder, entry);
    try {
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // Not ours to fight over (permissions); the write itself goes on.
    }
  }
  return removed;
}

/**
 * A fresh temporary path beside `destination` (same folder, so the final rename is atomic),
 * registered for removal on signals and exit. Stale temporaries of dead processes for the same
 * destination are removed first. Call `releaseTemporaryPath` once it is renamed or removed.
 */
export function claimTemporaryPath(destination: string): string {
  removeStaleTemporaries(destination);
  installHandlers();
  const path = join(dirname(destination), `.${basename(destination)}.${process.pid}.${(sequence++).toString(36)}-${Date.now().toString(36)}.tmp`);
  inFlight.add(path);
  return path;
}

/** Stops tracking a temporary path (it was renamed into place or removed). */
export function releaseTemporaryPath(path: string): void {
  inFlight.delete(path);
}

/** The temporary paths this process has in flight (for diagnostics and tests). */
export function temporaryPathsInFlight(): string[] {
  return [...inFlight];
}
