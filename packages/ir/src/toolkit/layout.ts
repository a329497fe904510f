import { ModelpassError } from '../diagnostic.js';
import type { Tensor } from '../tensor.js';

/** A tensor seen as `[outer, dim, inner]` around one axis (row-major). */
export interface AxisLayout {
  /** The axis, normalized to `0 ≤ axis < rank`. */
  readonly axis: number;
  /** Product of the dims before the axis. */
  readonly outer: number;
  /** Size of the axis. */
  readonly dim: number;
  /** Product of the dims after the axis. */
  readonly inner: number;
}

/** Normalizes `axis` (negative counts from the end) against `rank`, or throws naming `what`. */
export function normalizeAxis(axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new ModelpassError({
      reason: `${what} ${axis} is out of range for a tensor of rank ${rank}`,
      expected: rank === 0 ? 'a tensor of rank ≥ 1' : `an integer in [${-rank}, ${rank - 1}]`,
      actual: String(axis),
      source: '@modelpass/ir',
    });
  }
  return axis < 0 ? axis + rank : axis;
}

/** The `[outer, dim, inner]` view of `shape` around `axis`. */
export function axisLayout(shape: readonly number[], axis: number, what = 'axis'): AxisLayout {
  const normalized = normalizeAxis(axis, shape.length, what);
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < normalized; i++) outer *= shape[i]!;
  for (let i = normalized + 1; i < shape.length; i++) inner *= shape[i]!;
  return { axis: normalized, outer, dim: shape[normalized]!, inner };
}

/** Throws unless `tensor` holds numbers (not strings). */
export function requireNumeric(tensor: Tensor, what: string): void {
  if (tensor.dtype === 'string' || tensor.dtype.startsWith('complex')) {
    throw new ModelpassError({ reason: `${what} needs a real-valued tensor`, actual: tensor.dtype, source: '@modelpass/ir' });
  }
}

/** A located-free toolkit error (the toolkit works on tensors, not nodes). */
export function toolkitError(reason: string, extra: { expected?: string; actual?: string; hint?: string } = {}): ModelpassError {
  return new ModelpassError({ reason, source: '@modelpass/ir', ...extra });
}
