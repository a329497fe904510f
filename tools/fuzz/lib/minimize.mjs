/**
 * Shrinks a finding's input while it still produces the same finding class (delta debugging over
 * chunks: bytes for binary inputs, characters for text), within a budget of attempts.
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

export async function minimizeInput(target, state, input, classKey, limits, budget = 400) {
  let best = input;
  let attempts = 0;
  const sameClass = async (candidate) => {
    attempts++;
    const result = await runCase(target, state, candidate, limits);
    return result.outcome === 'finding' && findingClass(result.kind, result.error, target.name) === classKey;
  };
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
