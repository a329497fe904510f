import type { Dim } from '@modelpass/ir';
import { isIdentityPermutation, type Permutation } from './permutation.js';
import { reshapeGroups } from './reshape-rule.js';

/**
 * `Transpose(a, perm)` = `Transpose(Transpose(a, first), rest)` where, in `Transpose(a, first)`, each
 * run of dims that the following Reshape merges (or splits) is contiguous and in order, so `rest` can
 * move through the Reshape and on down. ShuffleNet's channel shuffle in NHWC: the merged
 * `[N,C/g,g,H,W]` read from `[N,H,W,g,C/g]` by `[0,4,3,1,2]` splits into the shuffle `[0,1,2,4,3]`
 * (the model's own transpose, which stays) and `[0,3,4,1,2]`, which goes through the merge as the
 * NHWC→NCHW `[0,3,1,2]` and cancels against the next convolution's. Undefined when the Reshape's
 * dims cannot be paired or when no reordering is needed (the Reshape takes `perm` as it is).
 */
export function splitForReshape(transposedDims: readonly Dim[], reshapedDims: readonly Dim[], perm: Permutation): { first: number[]; rest: number[] } | undefined {
  if (transposedDims.length !== perm.length) return undefined;
  const groups = reshapeGroups(transposedDims, reshapedDims);
  if (!groups) return undefined;
  const lowest = (group: { from: number; to: number }): number => Math.min(...perm.slice(group.from, group.to));
  // Groups in the order of their dims in `a`; inside a group, the order the Reshape reads them in.
  const first = [...groups].sort((x, y) => lowest(x) - lowest(y)).flatMap((group) => perm.slice(group.from, group.to));
  if (isIdentityPermutation(first)) return undefined;
  const rest = perm.map((axis) => first.indexOf(axis));
  if (isIdentityPermutation(rest)) return undefined;
  return { first, rest };
}
