/**
 * Options objects of library functions (`writeOnnx(model, path, { externalData })`,
 * `compareModels(a, b, { inputs })`) checked for names the function does not take: a misspelled
 * key would otherwise be ignored without a word and the call would do something else than asked.
 */
import { ModelpassError } from './diagnostic.js';
import { editDistance } from './edit-distance.js';

/** The known name a misspelled one most likely meant: same letters in another case, or ≤ 2 edits (a swap of neighbours is one). */
export function closestOptionName(typed: string, known: readonly string[]): string | undefined {
  const lower = typed.toLowerCase();
  const sameLetters = known.find((name) => name.toLowerCase() === lower);
  if (sameLetters !== undefined) return sameLetters;
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    // Very long names get no suggestion (3: past the bound).
    const distance = lower.length > 64 || name.length > 64 ? 3 : editDistance(lower, name.toLowerCase(), 2);
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
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
