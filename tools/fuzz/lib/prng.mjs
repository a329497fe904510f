/**
 * The fuzzer's own seeded PRNG (xoshiro128**, seeded through splitmix32), so a run is the same
 * on every machine and Node version. `caseRandom(seed, parser, index)` gives each case its own
 * stream: any case can be regenerated alone from (seed, parser, index).
 */

function splitmix32(state) {
  let z = (state + 0x9e3779b9) | 0;
  let t = z ^ (z >>> 16);
  t = Math.imul(t, 0x21f0aaad);
  t ^= t >>> 15;
  t = Math.imul(t, 0x735a2d97);
  t ^= t >>> 15;
  return { next: z, value: t >>> 0 };
}

/** FNV-1a over a string, for mixing names into seeds. */
export function hashString(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Random {
  constructor(seed) {
    let state = seed >>> 0;
    this.s = new Uint32Array(4);
    for (let i = 0; i < 4; i++) {
      const step = splitmix32(state);
      state = step.next;
      this.s[i] = step.value;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** A uniform 32-bit unsigned integer. */
  u32() {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A float in [0, 1). */
  float() {
    return this.u32() / 4294967296;
  }

  /** An integer in [0, n). */
  below(n) {
    if (n <= 0) return 0;
    return Math.floor(this.float() * n);
  }

  /** An integer in [min, max]. */
  range(min, max) {
    return min + this.below(max - min + 1);
  }

  chance(p) {
    return this.float() < p;
  }

  pick(items) {
    return items[this.below(items.length)];
  }

  /** Picks from `[weight, value]` pairs. */
  weighted(pairs) {
    let total = 0;
    for (const [weight] of pairs) total += weight;
    let x = this.float() * total;
    for (const [weight, value] of pairs) {
      x -= weight;
      if (x < 0) return value;
    }
    return pairs[pairs.length - 1][1];
  }

  bytes(n) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** A size biased towards small values (0, 1, 2 … up to `max`). */
  smallSize(max) {
    const bits = this.below(Math.ceil(Math.log2(max + 1)) + 1);
    return Math.min(max, this.below(2 ** bits + 1));
  }
}

function rotl(x, k) {
  return (x << k) | (x >>> (32 - k));
}

/** The PRNG for case `index` of `parser` in a run seeded with `seed`. */
export function caseRandom(seed, parser, index) {
  const mixed = (Math.imul(seed >>> 0, 0x9e3779b1) ^ hashString(parser) ^ Math.imul(index >>> 0, 0x85ebca6b)) >>> 0;
  const r = new Random(mixed);
  // Also mix the high part of large indices.
  const high = Math.floor(index / 4294967296);
  if (high) for (let i = 0; i < (high & 7) + 1; i++) r.u32();
  return r;
}
