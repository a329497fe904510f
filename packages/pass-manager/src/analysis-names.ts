import { ModelpassError } from '@modelpass/ir';
import { closestName } from './suggest.js';

/** Every analysis name made by `defineAnalysis` in this process (the built-in ones included). */
const KNOWN = new Set<string>();

/** @internal Called by `defineAnalysis`. */
export function registerAnalysisName(name: string): void {
  KNOWN.add(name);
}

/** Names `context.preserve([...])` accepts: every analysis defined so far, sorted. */
export function knownAnalysisNames(): string[] {
  return [...KNOWN].sort();
}

/**
 * Throws a ModelpassError naming the pass and the first name that no analysis has (with the
 * closest known name), so a typo in `preserve([...])` cannot silently keep a stale analysis.
 * `alsoKnown` adds names valid for this run (analyses cached for the model).
 */
export function checkAnalysisNames(names: readonly string[], passLabel: string, alsoKnown: Iterable<string> = []): void {
  const extra = new Set(alsoKnown);
  for (const name of names) {
    if (typeof name === 'string' && (KNOWN.has(name) || extra.has(name))) continue;
    const candidates = [...KNOWN, ...extra];
    const suggestion = typeof name === 'string' ? closestName(name, candidates) : undefined;
    throw new ModelpassError({
      reason: `${passLabel} preserves analysis '${String(name)}', which does not exist${suggestion ? ` — did you mean '${suggestion}'?` : ''}`,
      expected: `one of ${candidates.sort().join(', ')}`,
      actual: String(name),
      hint: 'preserve the names of analyses defined with defineAnalysis (ANALYSES holds the built-in ones), or return preserveNone()',
      source: '@modelpass/pass-manager',
      code: 'pass/unknown-analysis',
    });
  }
}
