/**
 * A time limit on one engine run (ONNX Runtime, the TFLite runtime, and the reference interpreter when made by
 * `createEngine` — the browser page bundles ReferenceEngine itself, without node:worker_threads). Their runs block the JavaScript thread until they return
 * — a Loop whose trip count is 1e12, or whose condition never turns false, never does (QA s16: `modelpass
 * compare` hung for good) — and neither ONNX Runtime's native run nor a worker thread blocked in it can be
 * interrupted: `worker.terminate()` and `process.exit()` both
 * wait for it. So the limit is kept by a watchdog thread (a worker whose timers run while the main thread is
 * blocked) that, when a run outlives it, writes the message to stderr and ends the process with SIGKILL
 * (exit status 137): nothing else stops it.
 *
 * Off unless set: a library must not end its host's process. The CLI sets it (`--run-time-limit`, default
 * 300 s a run) for the commands that run models.
 */
import { Worker } from 'node:worker_threads';

export interface RunTimeLimit {
  /** Seconds one engine run may take; 0 or undefined: no limit. */
  readonly seconds?: number;
  /** Added to the message when the limit ends the process (how to raise it, e.g. the CLI flag). */
  readonly hint?: string;
}

let limit: RunTimeLimit = {};
let watchdog: Promise<Worker> | undefined;

/** Sets (or, with `{}` or seconds 0, clears) the time limit every engine run of this process is held to. */
export function setRunTimeLimit(next: RunTimeLimit): void {
  if (next.seconds !== undefined && !(Number.isFinite(next.seconds) && next.seconds >= 0)) {
    throw new RangeError(`run time limit must be a finite number of seconds >= 0, got ${next.seconds}`);
  }
  limit = { ...next };
}

/** The limit set by `setRunTimeLimit`. */
export function runTimeLimit(): RunTimeLimit {
  return limit;
}

// Runs in the watchdog thread: on 'arm' it starts a timer that writes the message and kills the process;
// on 'disarm' (or a new 'arm') it clears it.
const WATCHDOG_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { writeSync } = require('node:fs');
let timer;
parentPort.on('message', (message) => {
  clearTimeout(timer);
  timer = undefined;
  if (!message) return;
  timer = setTimeout(() => {
    try { writeSync(2, message.text); } catch {}
    process.kill(process.pid, 'SIGKILL');
  }, message.ms);
});
`;

function startWatchdog(): Promise<Worker> {
  watchdog ??= new Promise<Worker>((resolvePromise, reject) => {
    const worker = new Worker(WATCHDOG_SOURCE, { eval: true, stdout: false, stderr: false });
    // Unreferenced only once online: until then it is what keeps the event loop (and the caller's await) alive.
    worker.once('online', () => {
      worker.unref();
      resolvePromise(worker);
    });
    worker.once('error', (error) => {
      watchdog = undefined;
      reject(error);
    });
  });
  return watchdog;
}

/**
 * Runs `body` (one engine run) under the process's run time limit, if one is set; `what` names the engine
 * and the model for the message ("ONNX Runtime, model 'm.onnx'").
 */
export async function withRunTimeLimit<T>(what: string, body: () => Promise<T> | T): Promise<T> {
  const seconds = limit.seconds;
  if (!seconds) return body();
  const worker = await startWatchdog();
  const text =
    `modelpass: error: ${what} did not finish one run within the run time limit of ${seconds} s, so the process was stopped ` +
    `(a Loop whose trip count is huge or whose condition never turns false runs for good, and the run cannot be interrupted)` +
    `${limit.hint ? `\n  hint: ${limit.hint}` : ''}\n`;
  worker.postMessage({ ms: Math.round(seconds * 1000), text });
  try {
    return await body();
  } finally {
    worker.postMessage(null);
  }
}
