/**
 * Exact selection of the k smallest magnitudes over one or several weights: exactly k elements are
 * chosen (when k ≤ the number of non-NaN elements). Ties at the threshold are broken
 * deterministically: the earlier weight (in the order given), then the lower flat index, goes first.
 * NaN magnitudes are never chosen.
 */
export function selectSmallest(weights: readonly Float64Array[], k: number): Uint8Array[] {
  const masks = weights.map((w) => new Uint8Array(w.length));
  if (k <= 0) return masks;
  let total = 0;
  for (const w of weights) total += w.length;
  const all = new Float64Array(total);
  let offset = 0;
  for (const w of weights) {
    all.set(w, offset);
    offset += w.length;
  }
  all.sort(); // typed-array sort: numeric, NaN last
  const threshold = all[Math.min(k, total) - 1]!;
  let strictlyBelow = 0;
  if (Number.isNaN(threshold)) {
    weights.forEach((w, layer) => w.forEach((v, i) => (Number.isNaN(v) ? undefined : (masks[layer]![i] = 1))));
    return masks;
  }
  for (let layer = 0; layer < weights.length; layer++) {
    const w = weights[layer]!;
    const mask = masks[layer]!;
    for (let i = 0; i < w.length; i++) {
      if (w[i]! < threshold) {
        mask[i] = 1;
        strictlyBelow++;
      }
    }
  }
  let ties = Math.min(k, total) - strictlyBelow;
  for (let layer = 0; layer < weights.length && ties > 0; layer++) {
    const w = weights[layer]!;
    const mask = masks[layer]!;
    for (let i = 0; i < w.length && ties > 0; i++) {
      if (w[i] === threshold) {
        mask[i] = 1;
        ties--;
      }
    }
  }
  return masks;
}
