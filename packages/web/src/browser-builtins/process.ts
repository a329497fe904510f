/**
 * The global `process` in the browser page: what the core touches outside file and plugin paths.
 * A page's event loop never runs dry the way Node's does, so `beforeExit`/`exit` listeners are
 * kept and never called; `cwd()` is `/`; `stderr.write` goes to the console; `kill` throws.
 */
import { unavailableFunction } from './unavailable.js';

type Listener = (...args: unknown[]) => void;
const listeners = new Map<string, Listener[]>();

export const process = {
  platform: 'browser',
  pid: 1,
  versions: {} as Record<string, string>,
  env: {} as Record<string, string | undefined>,
  argv: [] as string[],
  cwd: (): string => '/',
  on(event: string, listener: Listener) {
    listeners.set(event, [...(listeners.get(event) ?? []), listener]);
    return process;
  },
  removeListener(event: string, listener: Listener) {
    listeners.set(event, (listeners.get(event) ?? []).filter((l) => l !== listener));
    return process;
  },
  listenerCount: (event: string): number => listeners.get(event)?.length ?? 0,
  kill: unavailableFunction('process.kill'),
  exit: unavailableFunction('process.exit'),
  stderr: { write: (text: string): boolean => (console.warn(text), true) },
  stdout: { write: (text: string): boolean => (console.log(text), true) },
};
