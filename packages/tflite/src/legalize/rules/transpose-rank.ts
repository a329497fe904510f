import type { Dim } from '@modelpass/ir';

/** TFLite 2.9's TRANSPOSE kernel takes 1-D to 5-D tensors ("Transpose op only supports 1D-5D input arrays"). */
export const MAX_TRANSPOSE_RANK = 5;

/** The same data movement on fewer axes: the input seen as `dims`, transposed by `perm`. */
export interface ReducedTranspose {
  readonly dims: readonly number[];
  readonly perm: readonly number[];
}

/** The same data movement on fewer axes, for any dims: `groups` are the input axes merged into each axis (in input order). */
export interface TransposeRuns {
  readonly groups: readonly (readonly number[])[];
  readonly perm: readonly number[];
}

/**
 * The runs of axes that stay neighbours in the same order after the permutation, axes of known
 * size 1 dropped (they do not break a run): each run moves as one axis. An unknown (symbolic) dim
 * joins a run like any other; its merged size is then unknown.
 */
export function transposeRuns(dims: readonly Dim[], perm: readonly number[]): TransposeRuns {
  const kept = perm.filter((axis) => dims[axis] !== 1);
  if (kept.length === 0) return { groups: [], perm: [] };
  const keptInputAxes = [...kept].sort((a, b) => a - b);
  const inputPosition = new Map(keptInputAxes.map((axis, position) => [axis, position]));
  const runs: number[][] = [];
  for (const axis of kept) {
    const run = runs[runs.length - 1];
    if (run && inputPosition.get(axis) === inputPosition.get(run[run.length - 1]!)! + 1) run.push(axis);
    else runs.push([axis]);
  }
  const inInputOrder = [...runs].sort((a, b) => a[0]! - b[0]!);
  const runIndex = new Map(inInputOrder.map((run, index) => [run, index]));
  return { groups: inInputOrder, perm: runs.map((run) => runIndex.get(run)!) };
}

/**
 * The smallest transpose that moves the same elements: axes of size 1 dropped, and runs of axes that
 * stay neighbours in the same order after the permutation merged into one. Swin's window partition,
 * `[1, 8, 7, 8, 7, 96]` by `(0, 1, 3, 2, 4, 5)`, is `[8, 7, 8, 672]` by `(0, 2, 1, 3)`.
 */
export function reduceTranspose(dims: readonly number[], perm: readonly number[]): ReducedTranspose {
  const runs = transposeRuns(dims, perm);
  return { dims: runs.groups.map((run) => run.reduce((n, axis) => n * dims[axis]!, 1)), perm: runs.perm };
}
