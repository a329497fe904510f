/**
 * One case: parse, then (when accepted) check the target's property, timing the case and
 * measuring heap + external memory growth against the input's size. Returns the outcome and, for a
 * finding, its kind and error.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isDocumentedRejection } from './oracle.mjs';

function memoryInUse() {
  const s = getHeapStatistics();
  return s.used_heap_size + s.external_memory;
}

/**
 * limits: { timeLimitMs, memoryFactor, memorySlackBytes, memoryHardBytes }; a target's
 * `timeLimitFactor` scales the whole case's limit (the passes mode runs several pipelines per case).
 * Result: { outcome: 'accepted'|'rejected'|'skipped'|'finding', kind?, error?, ms, code? }
 */
export async function runCase(target, state, input, limits) {
  const before = memoryInUse();
  const start = performance.now();
  let value;
  let result;
  try {
    value = target.parse(input, state);
    if (value && typeof value.then === 'function') value = await value;
  } catch (error) {
    if (error?.name === 'CaseTimeLimit') {
      // A target that times parts of a case itself (the passes mode, per pipeline) says one ran over.
      result = { outcome: 'finding', kind: 'slow', error };
    } else if (error?.name === 'PropertyViolation') {
      result = { outcome: 'finding', kind: 'property', error };
    } else if (!isDocumentedRejection(error)) {
      result = { outcome: 'finding', kind: error?.name === 'ModelpassError' ? 'internal' : 'crash', error };
    } else {
      result = { outcome: 'rejected', code: error.diagnostics?.[0]?.code ?? 'no-code' };
      if (target.onRejected) {
        try {
          target.onRejected(input, state);
        } catch (problem) {
          result = { outcome: 'finding', kind: problem?.name === 'PropertyViolation' ? 'property' : 'crash', error: problem };
        }
      }
    }
  }
  const parsedAt = performance.now();
  const grown = memoryInUse() - before;
  if (!result) {
    if (value?.skipped) {
      result = { outcome: 'skipped' };
    } else {
      try {
        target.check(value, input, state);
        result = { outcome: 'accepted' };
      } catch (error) {
        result = { outcome: 'finding', kind: error?.name === 'PropertyViolation' ? 'property' : 'crash', error };
      }
    }
  }
  const ms = performance.now() - start;
  result.ms = ms;
  if (result.outcome !== 'finding') {
    const parseMs = parsedAt - start;
    const caseLimitMs = limits.timeLimitMs * (target.timeLimitFactor ?? 1);
    if (parseMs > caseLimitMs) {
      result = { outcome: 'finding', kind: 'slow', ms, error: new Error(`parsing took ${parseMs.toFixed(0)} ms (limit ${caseLimitMs} ms) for ${input.length} input bytes`) };
    } else if (grown > limits.memoryFactor * input.length + limits.memorySlackBytes) {
      const retained = measureRetained(target, state, input);
      const budget = limits.memoryFactor * input.length + limits.memorySlackBytes / 8;
      if (retained > budget || grown > limits.memoryHardBytes) {
        result = {
          outcome: 'finding',
          kind: 'memory',
          ms,
          error: new Error(`parsing ${input.length} bytes grew memory by ${mb(grown)} (retained ${mb(retained)}; budget ${limits.memoryFactor}x input + ${mb(limits.memorySlackBytes)})`),
        };
      }
    }
  }
  value = undefined;
  return result;
}

function mb(bytes) {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

let collectGarbage;

/** A full-GC function, in a worker (started with gc exposed) or in the main thread (the replay). */
function fullGc() {
  if (collectGarbage) return collectGarbage;
  if (typeof globalThis.gc === 'function') return (collectGarbage = globalThis.gc);
  setFlagsFromString('--expose-gc');
  collectGarbage = runInNewContext('gc');
  return collectGarbage;
}

/** Memory the parsed value keeps alive, measured between two full GCs. */
function measureRetained(target, state, input) {
  const gc = fullGc();
  gc();
  const before = memoryInUse();
  let value;
  try {
    value = target.parse(input, state);
  } catch {
    return 0;
  }
  gc();
  const retained = memoryInUse() - before;
  if (value && typeof value.then === 'function') value.catch(() => {});
  return retained;
}
