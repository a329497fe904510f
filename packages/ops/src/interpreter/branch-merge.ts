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
 * symbolic or unknown on one side) become unknown; different ranks give an unranked tensor. A side
 * about which nothing is known (no type, or an unranked tensor) yields the other side: inference
 * could not follow that path, and ranked information is kept rather than discarded. Undefined when
 * the dtypes or kinds disagree.
 */
export function joinTypes(a: Type | undefined, b: Type | undefined): Type | undefined {
  if (!a || a.kind === 'unknown') return b;
  if (!b || b.kind === 'unknown') return a;
  if (a.kind === 'tensor' && b.kind === 'tensor') {
    if (a.dtype !== b.dtype) return undefined;
    if (!a.shape) return b;
    if (!b.shape) return a;
    if (a.shape.length !== b.shape.length) return tensorType(a.dtype, null);
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
