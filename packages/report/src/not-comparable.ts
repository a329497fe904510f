/**
 * Two tensors of one name that cannot be compared element by element (their shapes differ, or one
 * side lacks the tensor) carry "Infinity" as their max errors and null as their cosine. Printing
 * "max abs inf, cosine n/a" then reads like a numeric blow-up; these say what happened instead.
 */
import type { ShapeChange } from './schema.js';

export interface MaybeNotComparable {
  readonly shapeChange?: ShapeChange;
  readonly missingIn?: 'before' | 'after';
}

/** `[1,16,28,28]` */
export function formatDims(dims: readonly number[]): string {
  return `[${dims.join(',')}]`;
}

/**
 * "shape changed [1,16,28,28] → [1,12,28,28] (not compared element by element)", "missing after the
 * change", or undefined when the two tensors were compared and their errors are real figures.
 */
export function notComparableText(x: MaybeNotComparable): string | undefined {
  if (x.shapeChange) return `shape changed ${formatDims(x.shapeChange.before)} → ${formatDims(x.shapeChange.after)} — not compared element by element`;
  if (x.missingIn === 'after') return 'missing after the change (not compared)';
  if (x.missingIn === 'before') return 'new after the change, absent before (not compared)';
  return undefined;
}

/** The `ShapeChange` of two concrete shapes, or undefined when they are equal. */
export function shapeChangeOf(before: readonly number[] | undefined, after: readonly number[] | undefined): ShapeChange | undefined {
  if (!before || !after) return undefined;
  if (before.length === after.length && before.every((d, i) => d === after[i])) return undefined;
  return { before: [...before], after: [...after] };
}
