/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => {
    const row = new Array<number>(cols).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j < cols; j++) d[0]![j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate the user most likely meant by `typed`: one that starts with or contains it
 * (`prun` → `prune-magnitude`), otherwise the nearest by edit distance when it is near enough.
 */
export function closestName(typed: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  if (list.length === 0 || typed.length === 0) return undefined;
  const lower = typed.toLowerCase();
  const byLength = (a: string, b: string): number => a.length - b.length || a.localeCompare(b);
  const prefixed = list.filter((c) => c.toLowerCase().startsWith(lower)).sort(byLength);
  if (prefixed.length > 0) return prefixed[0];
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of [...list].sort()) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(2, Math.ceil(typed.length * 0.4));
  if (bestDistance <= limit) return best;
  if (lower.length >= 3) {
    const containing = list.filter((c) => c.toLowerCase().includes(lower)).sort(byLength);
    if (containing.length > 0) return containing[0];
  }
  return undefined;
}

/** ` — did you mean 'x'?` or nothing. */
export function didYouMean(typed: string, candidates: Iterable<string>): string {
  const suggestion = closestName(typed, candidates);
  return suggestion === undefined ? '' : ` — did you mean '${suggestion}'?`;
}
