/**
 * Options objects of library functions (`writeOnnx(model, path, { externalData })`,
 * `compareModels(a, b, { inputs })`) checked for names the function does not take: a misspelled
 * key would otherwise be ignored without a word and the call would do something else than asked.
 */
import { ModelpassError } from './diagnostic.js';

/** The known name a misspelled one most likely meant: same letters in another case, or ≤ 2 edits. */
export function closestOptionName(typed: string, known: readonly string[]): string | undefined {
  const lower = typed.toLowerCase();
  const sameLetters = known.find((name) => name.toLowerCase() === lower);
  if (sameLetters !== undefined) return sameLetters;
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = boundedEditDistance(lower, name.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** Levenshtein distance, or 3 when it is surely more than 2 (names of very different lengths, long names). */
function boundedEditDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 64 || b.length > 64) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

export interface OptionNamesCheck {
  /** The function, as the message names it: `writeOnnx`, `compareModels`. */
  readonly fn: string;
  /** Every option it takes. */
  readonly known: readonly string[];
  /** The package reporting (`@modelpass/onnx`). */
  readonly source: string;
  /** Diagnostic code (default `options/unknown`). */
  readonly code?: string;
}

/**
 * Throws a ModelpassError unless `options` is undefined or an object whose keys are all in
 * `check.known`: `writeOnnx: unknown option 'externaldata' — did you mean 'externalData'?`.
 */
export function checkOptionNames(options: unknown, check: OptionNamesCheck): void {
  if (options === undefined) return;
  const code = check.code ?? 'options/unknown';
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    const actual = options === null ? 'null' : Array.isArray(options) ? 'an array' : `a ${typeof options}`;
    throw new ModelpassError({ reason: `${check.fn}: the options must be an object, not ${actual}`, source: check.source, code });
  }
  for (const key of Object.keys(options)) {
    if (check.known.includes(key)) continue;
    const suggestion = closestOptionName(key, check.known);
    throw new ModelpassError({
      reason: `${check.fn}: unknown option '${key}'${suggestion !== undefined ? ` — did you mean '${suggestion}'?` : ''}`,
      expected: `one of ${check.known.join(', ')}`,
      source: check.source,
      code,
    });
  }
}
