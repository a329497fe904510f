/**
 * Error statistics of one tensor against another of the same element count: max absolute error,
 * max relative error `|b - a| / max(|a|, 1e-6)` (a is the first model's), cosine similarity. NaN at
 * the same position in both counts as equal; NaN against a number is an infinite error. Tensors of
 * different shapes or dtypes compare as infinitely different.
 */
import { isFloatDType, type Tensor } from '@modelpass/ir';

export interface TensorError {
  readonly maxAbsError: number;
  readonly maxRelError: number;
  readonly cosine: number | null;
}

const RELATIVE_FLOOR = 1e-6;

function numbers(tensor: Tensor): ArrayLike<number> {
  const data = tensor.data() as ArrayLike<number | bigint>;
  if (data.length > 0 && typeof data[0] === 'bigint') return Array.from(data as ArrayLike<bigint>, Number);
  return data as ArrayLike<number>;
}

export function tensorError(a: Tensor, b: Tensor): TensorError {
  const comparable = a.dtype !== 'string' && b.dtype !== 'string' && a.size === b.size && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  if (!comparable) return { maxAbsError: Infinity, maxRelError: Infinity, cosine: null };
  const x = numbers(a);
  const y = numbers(b);
  let maxAbs = 0;
  let maxRel = 0;
  let dot = 0;
  let nx = 0;
  let ny = 0;
  for (let i = 0; i < x.length; i++) {
    const e = x[i]!;
    const v = y[i]!;
    if (Number.isNaN(e) || Number.isNaN(v)) {
      if (Number.isNaN(e) && Number.isNaN(v)) continue;
      maxAbs = Infinity;
      maxRel = Infinity;
      continue;
    }
    const abs = e === v ? 0 : Math.abs(v - e);
    if (abs > maxAbs) maxAbs = abs;
    const rel = abs / Math.max(Math.abs(e), RELATIVE_FLOOR);
    if (rel > maxRel) maxRel = rel;
    if (Number.isFinite(e) && Number.isFinite(v)) {
      dot += e * v;
      nx += e * e;
      ny += v * v;
    }
  }
  const cosine = nx === 0 || ny === 0 ? (nx === ny ? 1 : 0) : dot / Math.sqrt(nx * ny);
  return { maxAbsError: maxAbs, maxRelError: maxRel, cosine: isFloatDType(a.dtype) || isFloatDType(b.dtype) || x.length > 0 ? cosine : null };
}

/**
 * Two 32-bit FNV-1a lanes (different offset bases) over bytes: a fast content hash with no
 * platform dependency. Equal data always gives equal fingerprints; `Tensor.equals` decides equality
 * where it matters (initializers with the same name).
 */
function fnv64(bytes: Uint8Array): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < bytes.length; i++) {
    a = Math.imul(a ^ bytes[i]!, 0x01000193);
    b = Math.imul(b ^ bytes[i]!, 0x01000193) ^ (a >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

const utf8 = new TextEncoder();

/** A content fingerprint of a tensor: dtype, shape and a hash of its bytes (or strings). */
export function tensorFingerprint(tensor: Tensor): string {
  const bytes = tensor.dtype === 'string' ? utf8.encode((tensor.strings ?? []).map((text) => `${text.length}:${text}`).join('')) : tensor.bytes();
  return `${tensor.dtype}[${tensor.shape.join(',')}]#${fnv64(bytes)}`;
}
