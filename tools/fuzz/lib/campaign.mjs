/**
 * Runs one parser's cases in a worker thread under a watchdog: a case running longer than the
 * kill limit (a hang) or process memory above the RSS limit ends the worker; the case is recorded
 * as a finding (its input regenerated from seed + index) and a new worker resumes after it.
 */
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { findingClass } from './oracle.mjs';
import { DEFAULT_MAX_INPUT_BYTES, generateCase } from './generate-case.mjs';
import { createScratch, removeScratch } from './scratch.mjs';
import { TARGETS, registerTargetModules } from './targets/index.mjs';

setFlagsFromString('--expose-gc'); // workers started after this get `gc` for retained-memory checks

export const DEFAULT_OPTIONS = {
  timeLimitMs: 1000,
  hangKillMs: 10000,
  memoryFactor: 10,
  memorySlackMb: 16,
  memoryHardMb: 512,
  maxRssMb: 4096,
  workerHeapMb: 2048,
  minimize: true,
  minimizeBudget: 300,
  corpus: undefined,
  /** Stop the run (cleanly, after the current case) after this many seconds; the report has the real count. */
  maxSeconds: Infinity,
  /** Generated inputs are cut to this size. */
  maxInputBytes: DEFAULT_MAX_INPUT_BYTES,
};

function emptyStats() {
  return { cases: 0, accepted: 0, rejected: 0, skipped: 0, findings: 0, maxCaseMs: 0, maxCaseIndex: -1, rejectionCodes: {} };
}

function addStats(total, part) {
  for (const key of ['cases', 'accepted', 'rejected', 'skipped', 'findings']) total[key] += part[key];
  if (part.maxCaseMs > total.maxCaseMs) {
    total.maxCaseMs = part.maxCaseMs;
    total.maxCaseIndex = part.maxCaseIndex;
  }
  for (const [code, n] of Object.entries(part.rejectionCodes)) total.rejectionCodes[code] = (total.rejectionCodes[code] ?? 0) + n;
  if (part.target) total.target = addCounts(total.target ?? {}, part.target);
}

/** Adds nested counters (a target's own statistics, e.g. per pipeline of the passes mode). */
function addCounts(total, part) {
  for (const [key, value] of Object.entries(part)) {
    if (typeof value === 'number') total[key] = (total[key] ?? 0) + value;
    else if (value && typeof value === 'object') total[key] = addCounts(total[key] ?? {}, value);
  }
  return total;
}

/** The options of a run of `parser`: the defaults, the target's own defaults, then what was given. */
export function optionsFor(parser, given = {}) {
  return { ...DEFAULT_OPTIONS, ...(TARGETS.get(parser)?.defaultOptions ?? {}), ...given };
}

/** Regenerates case `index` (for hangs and crashes of the worker itself). */
export async function regenerateCase(parser, seed, index, given = {}) {
  await registerTargetModules(given.targetModules);
  const target = TARGETS.get(parser);
  const options = optionsFor(parser, given);
  const scratchDir = createScratch();
  try {
    const state = await target.setup({ ...options, scratchDir });
    return generateCase(target, state, seed, index, options.maxInputBytes);
  } finally {
    removeScratch(scratchDir);
  }
}

/**
 * Runs cases [0, count) of `parser` with `seed`. `onFinding(f)` gets every finding (first of its
 * class with `input`); `onProgress(done, stats)` about once a second.
 * Returns { parser, seed, count, stats, seconds, findings: [...] }.
 */
export async function runCampaign({ parser, seed, count, options: given = {}, onFinding = () => {}, onProgress = () => {} }) {
  await registerTargetModules(given.targetModules);
  if (!TARGETS.has(parser)) throw new Error(`unknown parser '${parser}'`);
  const options = { ...optionsFor(parser, given), scratchDir: createScratch() };
  try {
    return await runSegments(parser, seed, count, options, onFinding, onProgress);
  } finally {
    removeScratch(options.scratchDir);
  }
}

async function runSegments(parser, seed, count, options, onFinding, onProgress) {
  const started = Date.now();
  const total = emptyStats();
  const findings = [];
  const knownClasses = new Set();
  const record = (finding) => {
    findings.push(finding);
    if (finding.first) knownClasses.add(finding.classKey);
    onFinding(finding);
  };
  let from = 0;
  const deadline = started + options.maxSeconds * 1000;
  while (from < count) {
    const segment = await runSegment(deadline, parser, seed, from, count, options, [...knownClasses], record, (index, stats) => onProgress(index, addedView(total, stats)));
    addStats(total, segment.stats);
    if (segment.stoppedAt === undefined) break;
    const index = segment.stoppedAt;
    const input = await regenerateCase(parser, seed, index, options).catch(() => undefined);
    const classKey = findingClass(segment.kind, { message: segment.reason }, parser);
    total.cases++;
    total.findings++;
    record({ type: 'finding', parser, seed, index, kind: segment.kind, classKey, first: !knownClasses.has(classKey), input, error: { name: segment.kind, message: segment.reason } });
    from = index + 1;
  }
  return { parser, seed, count, stats: total, seconds: (Date.now() - started) / 1000, findings, stoppedByTimeLimit: total.cases < count };
}

function addedView(total, stats) {
  const view = emptyStats();
  addStats(view, total);
  addStats(view, stats);
  return view;
}

function runSegment(deadline, parser, seed, from, to, options, knownClasses, record, onProgress) {
  return new Promise((resolve, reject) => {
    const shared = new SharedArrayBuffer(32); // case index, case start, phase, stop request
    const progress = new Float64Array(shared);
    progress[0] = from;
    let lastStats = emptyStats();
    let ready = false;
    let finished = false;
    const worker = new Worker(new URL('./worker.mjs', import.meta.url), {
      workerData: { parser, seed, from, to, options: { ...options, knownClasses }, shared },
      resourceLimits: { maxOldGenerationSizeMb: options.workerHeapMb },
    });
    const stop = (result) => {
      if (finished) return;
      finished = true;
      clearInterval(watchdog);
      worker.terminate().finally(() => resolve(result));
    };
    const partial = () => ({ ...lastStats, cases: Math.max(lastStats.cases, progress[0] - from) });
    const watchdog = setInterval(() => {
      if (!ready) return;
      if (Date.now() > deadline) progress[3] = 1; // the worker stops after its current case
      const running = Date.now() - progress[1];
      if (running > options.hangKillMs) {
        stop({ stats: partial(), stoppedAt: progress[0], kind: 'hang', reason: `case ran over ${options.hangKillMs} ms (${progress[2] === 2 ? 'while minimizing a finding' : 'parsing'}) and was killed` });
        return;
      }
      const rssMb = process.memoryUsage.rss() / 1048576;
      if (rssMb > options.maxRssMb) {
        stop({ stats: partial(), stoppedAt: progress[0], kind: 'memory', reason: `process memory reached ${rssMb.toFixed(0)} MiB (limit ${options.maxRssMb} MiB)` });
      }
    }, 50);
    worker.on('message', (message) => {
      if (message.type === 'ready') {
        ready = true;
        progress[1] = Date.now();
      } else if (message.type === 'finding') {
        record(message);
      } else if (message.type === 'progress') {
        lastStats = message.stats;
        onProgress(message.index, message.stats);
      } else if (message.type === 'done') {
        stop({ stats: message.stats });
      }
    });
    worker.on('error', (error) => {
      // Heap exhaustion (ERR_WORKER_OUT_OF_MEMORY) or an error outside any case.
      const kind = error?.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : 'worker-exit';
      if (!ready) {
        finished = true;
        clearInterval(watchdog);
        reject(new Error(`the ${parser} fuzz worker failed to start: ${error?.stack ?? error}`));
        return;
      }
      stop({ stats: partial(), stoppedAt: progress[0], kind, reason: `${error?.name}: ${error?.message}` });
    });
    worker.on('exit', (code) => {
      if (!finished) stop({ stats: partial(), stoppedAt: progress[0], kind: 'worker-exit', reason: `worker exited with code ${code}` });
    });
  });
}
