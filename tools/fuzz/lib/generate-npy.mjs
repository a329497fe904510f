/**
 * `.npy` inputs: well-formed files of every dtype (the seeds), and files whose header is
 * hostile — odd or unknown `descr`, byte orders, string widths, shapes with huge, negative, float,
 * empty or many dimensions, broken dict syntax, lying header lengths, versions 1/2/3 and beyond.
 */
import { concat } from './mutate-bytes.mjs';

const MAGIC = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
const CODES = ['f2', 'f4', 'f8', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'b1', 'U1', 'U8', 'S1', 'S16', 'U0', 'S0', 'c8', 'c16', 'O', 'V8', 'M8', 'f16', 'U4294967296', 'S99999999999', 'U-1', 'f', '', 'i4 ', 'f4,f4'];
const ORDERS = ['<', '>', '|', '=', '', '!', '\u00e9'];
const DIMS = ['0', '1', '2', '3', '7', '1024', '65536', '4294967296', '9007199254740993', '1e9', '-1', '-0', '1.5', '0x10', '1L', '', ' ', 'None', '10**9', '99999999999999999999999'];

function itemSizeOf(code) {
  const m = /^([a-zA-Z])(\d+)$/.exec(code);
  if (!m) return 1;
  const n = Number(m[2]);
  return m[1] === 'U' ? n * 4 : n;
}

function shapeText(rng) {
  const rank = rng.weighted([[3, rng.range(0, 3)], [1, rng.range(4, 8)], [1, rng.range(30, 70)]]);
  const dims = Array.from({ length: rank }, () => (rng.chance(0.7) ? String(rng.range(0, 6)) : rng.pick(DIMS)));
  if (dims.length === 1 && rng.chance(0.7)) return `(${dims[0]},)`;
  return `(${dims.join(rng.chance(0.9) ? ', ' : ',,')})`;
}

function headerText(rng) {
  const descr = rng.pick(ORDERS) + rng.pick(CODES);
  const fortran = rng.weighted([[8, 'False'], [1, 'True'], [1, 'false'], [1, '0']]);
  const shape = shapeText(rng);
  const q = rng.chance(0.9) ? "'" : '"';
  let parts = [`${q}descr${q}: ${q}${descr}${q}`, `${q}fortran_order${q}: ${fortran}`, `${q}shape${q}: ${shape}`];
  if (rng.chance(0.1)) parts = parts.filter((_, i) => i !== rng.below(3));
  if (rng.chance(0.1)) parts.push(parts[rng.below(parts.length)]);
  if (rng.chance(0.2)) parts.reverse();
  let text = `{${parts.join(', ')}, }`;
  if (rng.chance(0.05)) text = text.replace(/\)/, '');
  if (rng.chance(0.05)) text = text.slice(0, rng.below(text.length));
  return { text, descr, shape };
}

function elementCountOf(shape) {
  const inner = shape.slice(1, -1).split(',').map((d) => d.trim()).filter(Boolean);
  let n = 1;
  for (const d of inner) {
    const v = Number(d);
    if (!Number.isFinite(v) || v < 0) return 0;
    n *= v;
  }
  return n;
}

/** A whole hostile .npy file. */
export function generateNpy(rng) {
  const { text, descr, shape } = headerText(rng);
  const major = rng.weighted([[6, 1], [2, 2], [2, 3], [1, rng.pick([0, 4, 255])]]);
  let header = new TextEncoder().encode(text);
  const headerStart = major === 1 || major === 0 ? 10 : 12;
  const pad = (64 - ((headerStart + header.length + 1) % 64)) % 64;
  header = concat(header, new TextEncoder().encode(' '.repeat(pad) + '\n'));
  let length = header.length;
  if (rng.chance(0.08)) length = rng.pick([0, 1, header.length + 1, header.length + 4096, 0xffff, 0xffffffff]);
  const prefix = new Uint8Array(headerStart);
  prefix.set(MAGIC);
  prefix[6] = major;
  prefix[7] = rng.chance(0.9) ? 0 : rng.below(256);
  const view = new DataView(prefix.buffer);
  if (headerStart === 10) view.setUint16(8, length & 0xffff, true);
  else view.setUint32(8, length >>> 0, true);
  const want = Math.min(1 << 16, elementCountOf(shape) * itemSizeOf(descr.slice(1)));
  const dataLength = rng.weighted([[6, want], [2, Math.max(0, want - rng.range(1, 8))], [1, want + rng.range(1, 64)], [1, rng.smallSize(64)]]);
  return concat(prefix, header, rng.bytes(Math.max(0, dataLength)));
}
