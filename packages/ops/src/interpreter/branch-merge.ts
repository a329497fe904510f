/**
 * Joins of types and known values that can come from more than one place: If branches whose
 * condition is not known, and Loop-carried values (the initial value or any iteration's result).
 * The join keeps what both sides agree on and forgets the rest; it never invents a dim.
 */
import { tensorType, type Dim, type Type } from '@modelpass/ir';
import type { DimValues } from './symbolic-values.js';

function joinDim(a: Dim, b: Dim): Dim {
  return a === b ? a : null;
}

/**
 * The type a value has when it may be either `a` or `b`: equal dims stay, differing ones (static,
 * symbolic or unknown on one side) become unknown; different ranks, or a side of unknown rank, give
 * an unranked tensor; a side whose type inference could not tell (kind `unknown`) gives `unknown`.
 * An absent side (no type at all: nothing flows from there) yields the other side. Undefined when the
 * dtypes or kinds disagree. Never narrower than either side: a fold reading the join (Shape of an
 * If's output) must hold whichever side runs.
 */
export function joinTypes(a: Type | undefined, b: Type | undefined): Type | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.kind === 'unknown') return a;
  if (b.kind === 'unknown') return b;
  if (a.kind === 'tensor' && b.kind === 'tensor') {
    if (a.dtype !== b.dtype) return undefined;
    if (!a.shape || !b.shape || a.shape.length !== b.shape.length) return tensorType(a.dtype, null);
    const bShape = b.shape;
    return tensorType(a.dtype, a.shape.map((d, i) => joinDim(d, bShape[i]!)));
  }
  if (a.kind === 'sequence' && b.kind === 'sequence') {
    const element = joinTypes(a.element, b.element);
    return element ? { kind: 'sequence', element } : undefined;
  }
  return a.kind === b.kind ? a : undefined;
}

/** The values known for both `a` and `b` (element by element), when they have the same shape. */
export function joinDimValues(a: DimValues | undefined, b: DimValues | undefined): DimValues | undefined {
  if (!a || !b || a.scalar !== b.scalar || a.values.length !== b.values.length) return undefined;
  const values = a.values.map((v, i) => joinDim(v, b.values[i]!));
  return values.every((v) => v === null) ? undefined : { scalar: a.scalar, values };
}
