/**
 * The fuzzing worker: runs cases [from, to) of one parser. Before each case it writes the case
 * index and start time into shared memory, so the main thread's watchdog can name the case that
 * hangs and terminate the worker. Each finding (with its input) is posted as soon as it is found;
 * new classes are minimized here first.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { findingClass, describeError } from './oracle.mjs';
import { generateCase } from './generate-case.mjs';
import { runCase } from './run-case.mjs';
import { minimizeInput } from './minimize.mjs';
import { TARGETS, registerTargetModules } from './targets/index.mjs';

const { parser, seed, from, to, options, shared } = workerData;
const progress = new Float64Array(shared); // [case index, case start (ms since epoch), phase: 1 run 2 minimize, stop request]
await registerTargetModules(options.targetModules);
const target = TARGETS.get(parser);
const state = await target.setup(options);
const limits = {
  timeLimitMs: options.timeLimitMs,
  memoryFactor: options.memoryFactor,
  memorySlackBytes: options.memorySlackMb * 1048576,
  memoryHardBytes: options.memoryHardMb * 1048576,
};

const stats = { cases: 0, accepted: 0, rejected: 0, skipped: 0, findings: 0, maxCaseMs: 0, maxCaseIndex: -1, rejectionCodes: {} };
const seenClasses = new Set(options.knownClasses ?? []);
let lastReport = Date.now();
parentPort.postMessage({ type: 'ready' });

for (let index = from; index < to; index++) {
  if (progress[3] === 1) break; // --max-seconds reached
  progress[0] = index;
  progress[1] = Date.now();
  progress[2] = 1;
  let input;
  let result;
  try {
    input = generateCase(target, state, seed, index, options.maxInputBytes);
  } catch (error) {
    // A bug of the fuzzer itself: reported like a finding so it cannot go unnoticed.
    input = '';
    result = { outcome: 'finding', kind: 'harness', error, ms: 0 };
  }
  result ??= await runCase(target, state, input, limits);
  stats.cases++;
  if (result.ms > stats.maxCaseMs) {
    stats.maxCaseMs = result.ms;
    stats.maxCaseIndex = index;
  }
  if (result.outcome === 'finding') {
    stats.findings++;
    const classKey = findingClass(result.kind, result.error, parser);
    let minimized;
    if (!seenClasses.has(classKey)) {
      seenClasses.add(classKey);
      if (options.minimize && result.kind !== 'slow' && result.kind !== 'memory') {
        progress[2] = 2;
        progress[1] = Date.now();
        // Each try restarts the watchdog's clock: a hang-kill limit is about one run, not the sum of up to
        // minimizeBudget runs (passes mode: 120 tries × 7 pipelines of a 300 KB model passed 60 s and were killed).
        minimized = (await minimizeInput(target, state, input, classKey, limits, options.minimizeBudget, () => (progress[1] = Date.now()))).input;
      }
      parentPort.postMessage({ type: 'finding', parser, seed, index, kind: result.kind, classKey, error: describeError(result.error), input, minimized, first: true });
    } else {
      parentPort.postMessage({ type: 'finding', parser, seed, index, kind: result.kind, classKey, first: false, inputLength: input.length });
    }
  } else {
    stats[result.outcome]++;
    if (result.outcome === 'rejected') stats.rejectionCodes[result.code] = (stats.rejectionCodes[result.code] ?? 0) + 1;
  }
  if (Date.now() - lastReport > 1000) {
    lastReport = Date.now();
    parentPort.postMessage({ type: 'progress', index, stats: withTargetStats() });
  }
}
parentPort.postMessage({ type: 'done', stats: withTargetStats() });

/** The stats with the target's own counters (the passes mode: per pipeline), when it keeps any. */
function withTargetStats() {
  return target.statsOf ? { ...stats, target: structuredClone(target.statsOf(state)) } : stats;
}
