/**
 * Counting histogram bin indices in JavaScript: the in-graph histogram's `indices` counting (see
 * `StatisticsGraph`) has ORT compute each value's bin index floor(x/w) as int16 and returns those;
 * they are counted here, one tight loop per tensor, into `2·bins` counts in graph order (index v
 * counts at v mod 2·bins: x ≥ 0 first, then x < 0 from the most negative bin).
 *
 * `2·bins` is a power of two, so v mod 2·bins is `v & (2·bins − 1)` on the int16's bits: no branch
 * and never an index outside the counts. An index outside [−bins, bins) comes only from NaN or
 * ±Infinity (the width holds every finite value); it lands in some bin, and its part's non-finite
 * sum has the part read again from its values (`BatchStatistics`), so those counts are never used.
 *
 * `StatisticsGraph` counts with `WasmBinCounter` (`wasm-bin-counter.ts`, the same counts about twice
 * as fast) and falls back to this loop where WebAssembly SIMD is missing; the tests use it as the reference.
 * The loop reads two indices per 32-bit word and counts in float64 (no int32 overflow check per
 * increment): on 1.15 M real indices of fashion-resnet (8 samples, 21 tensors) 1.8–2.8 ms against
 * 2.6–6.1 ms with Int32Array counts and 2.0–4.6 ms one index at a time; ORT's single-threaded
 * ScatterElements takes ~5 ns per value here.
 */

/** Whether `length` counts can be filled by `countBinIndices` (a power of two that int16 indices reach). */
export function countableByMask(length: number): boolean {
  return Number.isInteger(length) && length >= 2 && length <= 2 ** 16 && (length & (length - 1)) === 0;
}

/** Adds one count per index to `counts` (length a power of two, see `countableByMask`) at `index & (length − 1)`. */
export function countBinIndices(indices: Int16Array, counts: Float64Array): void {
  const mask = counts.length - 1;
  const length = indices.length;
  if (length === 0) return; // an empty view at an odd 2-byte offset has no aligned words to view
  let start = 0;
  if (indices.byteOffset % 4 !== 0) {
    counts[indices[0]! & mask]! += 1;
    start = 1;
  }
  const pairs = (length - start) >> 1;
  const words = new Int32Array(indices.buffer, indices.byteOffset + 2 * start, pairs);
  for (let i = 0; i < pairs; i++) {
    const word = words[i]!;
    counts[word & mask]! += 1;
    counts[(word >>> 16) & mask]! += 1;
  }
  for (let i = start + 2 * pairs; i < length; i++) counts[indices[i]! & mask]! += 1;
}
