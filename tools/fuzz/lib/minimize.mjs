/**
 * Shrinks a finding's input while it still produces the same finding class (delta debugging over
 * chunks: bytes for binary inputs, characters for text), within a budget of attempts. A target
 * with `reduce(input)` (candidate inputs with one structural thing less, e.g. a model without one
 * node) is shrunk with those first, greedily, until none keeps the class; a target marked
 * `structuralMinimizeOnly` stops there.
 */
import { findingClass } from './oracle.mjs';
import { runCase } from './run-case.mjs';

function cut(input, start, end) {
  if (typeof input === 'string') return input.slice(0, start) + input.slice(end);
  const out = new Uint8Array(input.length - (end - start));
  out.set(input.subarray(0, start));
  out.set(input.subarray(end), start);
  return out;
}

/** `onAttempt()` is called before each try (the worker restarts the watchdog's clock: each try is timed alone). */
export async function minimizeInput(target, state, input, classKey, limits, budget = 400, onAttempt = () => {}) {
  let best = input;
  let attempts = 0;
  const sameClass = async (candidate) => {
    attempts++;
    onAttempt();
    const result = await runCase(target, state, candidate, limits);
    return result.outcome === 'finding' && findingClass(result.kind, result.error, target.name) === classKey;
  };
  if (target.reduce) {
    // After a success the candidates are listed again for the smaller input, skipping the ones before it that failed.
    for (let progress = true, skip = 0; progress && attempts < budget; ) {
      progress = false;
      let index = 0;
      for (const candidate of target.reduce(best, state)) {
        if (attempts >= budget) break;
        if (index++ < skip) continue;
        if (await sameClass(candidate)) {
          best = candidate;
          progress = true;
          skip = Math.max(0, index - 2);
          break;
        }
      }
    }
    if (target.structuralMinimizeOnly) return { input: best, attempts };
  }
  let chunk = Math.max(1, Math.floor(best.length / 2));
  while (chunk >= 1 && attempts < budget) {
    let shrunk = false;
    for (let start = 0; start < best.length && attempts < budget; ) {
      const candidate = cut(best, start, Math.min(best.length, start + chunk));
      if (await sameClass(candidate)) {
        best = candidate;
        shrunk = true;
      } else {
        start += chunk;
      }
    }
    if (!shrunk) chunk = Math.floor(chunk / 2);
  }
  return { input: best, attempts };
}
