/**
 * Edit distance for did-you-mean suggestions (pass, option and argument names), shared by every package.
 *
 * Optimal string alignment distance (Levenshtein plus adjacent transpositions). With `max`, the
 * computation stops as soon as the distance is known to exceed it and returns `max + 1`: only the
 * diagonal band of width `max` is filled, so the cost is O(length × max) instead of O(a × b).
 */
export function editDistance(a: string, b: string, max: number = Infinity): number {
  const lengthGap = Math.abs(a.length - b.length);
  if (lengthGap > max) return max + 1;
  const cols = b.length + 1;
  const band = Math.min(Math.floor(max), a.length + b.length);
  const outside = Number.POSITIVE_INFINITY;
  // Three rolling rows: the one two back is needed for transpositions.
  let beforePrevious = new Array<number>(cols).fill(outside);
  let previous = Array.from({ length: cols }, (_, j) => (j <= band ? j : outside));
  let current = new Array<number>(cols).fill(outside);
  for (let i = 1; i <= a.length; i++) {
    const from = Math.max(1, i - band);
    const to = Math.min(b.length, i + band);
    current.fill(outside);
    if (i <= band) current[0] = i;
    let rowMinimum = current[0]!;
    for (let j = from; j <= to; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, beforePrevious[j - 2]! + 1);
      current[j] = best;
      if (best < rowMinimum) rowMinimum = best;
    }
    if (rowMinimum > max) return max + 1;
    [beforePrevious, previous, current] = [previous, current, beforePrevious];
  }
  const distance = previous[b.length]!;
  return distance > max ? max + 1 : distance;
}
