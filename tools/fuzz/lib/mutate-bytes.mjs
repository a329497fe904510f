/**
 * Format-blind mutations of a byte string: flips, inserts, deletes, duplications, splices with a
 * second input and "interesting" values (0, -1, 0x7f…, 0x80…) written over a few bytes. Each call
 * applies 1 to a few of them, so most outputs stay close to the seed and get past the first check.
 */

const INTERESTING_8 = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x08, 0x0a, 0x12, 0x1a, 0x22];
const INTERESTING_32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, 0xffff, 4096, 0x40000000];

function concat(...parts) {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const BYTE_MUTATIONS = [
  [4, function flipBit(rng, data) {
    if (!data.length) return data;
    const out = data.slice();
    const at = rng.below(out.length);
    out[at] ^= 1 << rng.below(8);
    return out;
  }],
  [3, function setInterestingByte(rng, data) {
    if (!data.length) return data;
    const out = data.slice();
    out[rng.below(out.length)] = rng.pick(INTERESTING_8);
    return out;
  }],
  [2, function setRandomByte(rng, data) {
    if (!data.length) return data;
    const out = data.slice();
    out[rng.below(out.length)] = rng.u32() & 0xff;
    return out;
  }],
  [2, function setInteresting32(rng, data) {
    if (data.length < 4) return data;
    const out = data.slice();
    const at = rng.below(out.length - 3);
    new DataView(out.buffer).setUint32(at, rng.pick(INTERESTING_32), rng.chance(0.5));
    return out;
  }],
  [2, function insertBytes(rng, data) {
    const at = rng.below(data.length + 1);
    return concat(data.subarray(0, at), rng.bytes(rng.smallSize(16) + 1), data.subarray(at));
  }],
  [3, function deleteRange(rng, data) {
    if (!data.length) return data;
    const at = rng.below(data.length);
    const n = Math.min(data.length - at, rng.smallSize(64) + 1);
    return concat(data.subarray(0, at), data.subarray(at + n));
  }],
  [1, function duplicateRange(rng, data) {
    if (!data.length) return data;
    const at = rng.below(data.length);
    const n = Math.min(data.length - at, rng.smallSize(256) + 1);
    return concat(data.subarray(0, at + n), data.subarray(at, at + n), data.subarray(at + n));
  }],
  [2, function truncate(rng, data) {
    return data.subarray(0, rng.below(data.length + 1)).slice();
  }],
  [1, function varintMax(rng, data) {
    // An over-long or maximal varint: protobuf and friends must not trust it.
    const at = rng.below(data.length + 1);
    const run = rng.pick([[0xff, 0xff, 0xff, 0xff, 0x0f], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]]);
    return concat(data.subarray(0, at), Uint8Array.from(run), data.subarray(at));
  }],
];

const SPLICE = function splice(rng, data, other) {
  if (!other || !other.length) return data;
  const cut = rng.below(data.length + 1);
  const from = rng.below(other.length);
  const n = Math.min(other.length - from, rng.smallSize(1024) + 1);
  return concat(data.subarray(0, cut), other.subarray(from, from + n), rng.chance(0.5) ? data.subarray(cut) : new Uint8Array(0));
};

/** Applies 1–4 random byte mutations (and sometimes a splice with `other`). */
export function mutateBytes(rng, data, other) {
  let out = data;
  const rounds = rng.weighted([[6, 1], [3, 2], [1, 4]]);
  for (let i = 0; i < rounds; i++) {
    if (other && rng.chance(0.08)) out = SPLICE(rng, out, other);
    else out = rng.weighted(BYTE_MUTATIONS)(rng, out);
  }
  return out;
}

export { concat };
