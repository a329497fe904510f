/**
 * A small least-recently-used map: `get` refreshes an entry, `set` evicts the oldest entries past the
 * bound and hands each to `onEvict` (e.g. to release an ONNX Runtime session).
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(
    readonly maxEntries: number,
    private readonly onEvict: (value: V, key: K) => void = () => {},
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`LRU bound must be a positive integer, got ${maxEntries}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.maxEntries) {
      const [oldestKey, oldestValue] = this.entries.entries().next().value as [K, V];
      this.entries.delete(oldestKey);
      this.onEvict(oldestValue, oldestKey);
    }
  }

  /** Removes an entry without calling `onEvict`. */
  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  /** Removes every entry, calling `onEvict` on each. */
  clear(): void {
    const all = [...this.entries];
    this.entries.clear();
    for (const [key, value] of all) this.onEvict(value, key);
  }

  keys(): K[] {
    return [...this.entries.keys()];
  }
}
