/** Byte counts: of tensors, of generating them, and as people read them (browser-safe: no Node module). */
import { byteLengthOf, type Tensor } from '@modelpass/ir';

/** Bytes a tensor of `dtype` and `shape` holds; strings a pointer's worth each, dtypes the ir does not size 8 each. */
export function tensorBytes(dtype: string, shape: readonly number[]): number {
  const count = shape.reduce((n, d) => n * d, 1);
  if (dtype === 'string') return count * 8;
  try {
    return byteLengthOf(dtype as Tensor['dtype'], count);
  } catch {
    return count * 8;
  }
}

/** Bytes generating these inputs takes at its peak: a JavaScript number (8 bytes) per element, then the tensor. */
export function generationBytes(inputs: readonly { readonly dtype: string; readonly shape: readonly number[] }[]): number {
  return inputs.reduce((n, i) => n + i.shape.reduce((m, d) => m * d, 1) * 8 + tensorBytes(i.dtype, i.shape), 0);
}

/** `1536` → `1.5 KiB`; below 1 KiB in bytes. */
export function formatBytes(n: number): string {
  // A shape of thousands of dims (a hostile model) multiplies past what a double holds: say so instead of 'Infinity PiB'.
  if (!Number.isFinite(n)) return 'more bytes than can be counted (over 2^1024)';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** `[2,3,4]`; a shape of more than `max` dims shows its first ones and its rank (a hostile model may declare 100000 dims). */
export function formatShapeBrief(shape: readonly number[], max = 16): string {
  if (shape.length <= max) return `[${shape.join(',')}]`;
  return `[${shape.slice(0, max).join(',')},… (${shape.length} dims)]`;
}
