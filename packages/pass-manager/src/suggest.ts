import { editDistance } from '@modelpass/ir';

/**
 * Names longer than this get no edit-distance suggestion: no pass, option or op name is that long,
 * and a did-you-mean for a pasted blob is noise (it would also cost O(length × candidates)).
 */
export const MAX_SUGGESTED_NAME_LENGTH = 256;

/** Moved to `@modelpass/ir` (option-name checks there use it too); still exported here. */
export { editDistance };

/**
 * The candidate the user most likely meant by `typed`: one that starts with or contains it
 * (`prun` → `prune-magnitude`), otherwise the nearest by edit distance when it is near enough.
 * Bounded: candidates whose length differs by more than the useful distance are skipped, the
 * distance is banded, and names over MAX_SUGGESTED_NAME_LENGTH get no suggestion.
 */
export function closestName(typed: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  if (list.length === 0 || typed.length === 0 || typed.length > MAX_SUGGESTED_NAME_LENGTH) return undefined;
  const lower = typed.toLowerCase();
  const byLength = (a: string, b: string): number => a.length - b.length || a.localeCompare(b);
  const prefixed = list.filter((c) => c.toLowerCase().startsWith(lower)).sort(byLength);
  if (prefixed.length > 0) return prefixed[0];
  const limit = Math.max(2, Math.ceil(typed.length * 0.4));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of [...list].sort()) {
    // A distance is at least the length gap; only strictly better candidates matter.
    const distance = editDistance(lower, candidate.toLowerCase(), bestDistance - 1);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined) return best;
  if (lower.length >= 3) {
    const containing = list.filter((c) => c.toLowerCase().includes(lower)).sort(byLength);
    if (containing.length > 0) return containing[0];
  }
  return undefined;
}

/**
 * Every candidate that starts with `typed` (case-insensitive), shortest first, at most `max`: a
 * family of names (`prune` → `prune-channels`, `prune-magnitude`, `prune-nm`) where picking one
 * would hide the others.
 */
export function namesStartingWith(typed: string, candidates: Iterable<string>, max = 6): string[] {
  if (typed.length === 0 || typed.length > MAX_SUGGESTED_NAME_LENGTH) return [];
  const lower = typed.toLowerCase();
  return [...candidates]
    .filter((c) => c.toLowerCase().startsWith(lower))
    .sort((a, b) => a.length - b.length || a.localeCompare(b))
    .slice(0, max);
}

/** ` — did you mean 'x'?` or nothing. */
export function didYouMean(typed: string, candidates: Iterable<string>): string {
  const suggestion = closestName(typed, candidates);
  return suggestion === undefined ? '' : ` — did you mean '${suggestion}'?`;
}
