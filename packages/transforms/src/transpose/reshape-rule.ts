import { Tensor, type Builder, type Dim, type Node } from '@modelpass/ir';
import { constantOf, shapeOf } from '../util/constants.js';
import type { Permutation } from './permutation.js';
import type { TransposeSinkRule } from './transpose-rules.js';

/** Input dims `[from, to)` become output dims `[outFrom, outTo)` (a split, a merge, or one dim kept). */
interface DimGroup {
  readonly from: number;
  readonly to: number;
  readonly outFrom: number;
  readonly outTo: number;
}

/** Pairs runs of input and output dims with equal products; undefined when a symbolic dim is split or merged. */
export function reshapeGroups(input: readonly Dim[], output: readonly Dim[]): DimGroup[] | undefined {
  const groups: DimGroup[] = [];
  let i = 0;
  let j = 0;
  while (i < input.length && j < output.length) {
    if (input[i] === output[j] && input[i] !== null) {
      groups.push({ from: i, to: i + 1, outFrom: j, outTo: j + 1 });
      i++;
      j++;
      continue;
    }
    const from = i;
    const outFrom = j;
    const first = input[i++];
    const firstOut = output[j++];
    if (typeof first !== 'number' || typeof firstOut !== 'number') return undefined;
    let inProduct = first;
    let outProduct = firstOut;
    while (inProduct !== outProduct) {
      const next = inProduct < outProduct ? input[i++] : output[j++];
      if (typeof next !== 'number') return undefined;
      if (inProduct < outProduct) inProduct *= next;
      else outProduct *= next;
    }
    groups.push({ from, to: i, outFrom, outTo: j });
  }
  return i === input.length && j === output.length ? groups : undefined;
}

/**
 * Reshape that splits or merges dims: `Reshape(Transpose(a, perm), s)` = `Transpose(Reshape(a, s'), q)`
 * when every merged run of dims is contiguous and in order in `a` (ShuffleNet's channel shuffle: the
 * channel dim split into groups). The shape operand is reordered (a constant anew; a computed one
 * through a Gather); a shape that copies dims (0) is declined.
 */
export const reshapeRule: TransposeSinkRule = {
  ops: ['onnx.Reshape'],
  role: 'axis',
  plan(node: Node, perm: Permutation) {
    if ((node.optionalAttr('allowzero', 'int') ?? 0) !== 0) return undefined;
    const inDims = shapeOf(node.inputs[0]);
    const outDims = shapeOf(node.outputs[0]);
    if (!inDims || !outDims || inDims.length !== perm.length) return undefined;
    const shapeTensor = constantOf(node.inputs[1]);
    const shapeValues = shapeTensor?.toNumbers();
    if (shapeValues?.some((v) => v === 0)) return undefined;
    const groups = reshapeGroups(inDims, outDims);
    if (!groups) return undefined;
    // Each group's input dims must sit together, in order, in the untransposed tensor.
    for (const group of groups) for (let d = group.from + 1; d < group.to; d++) if (perm[d] !== perm[d - 1]! + 1) return undefined;
    const ordered = [...groups].sort((x, y) => perm[x.from]! - perm[y.from]!);
    // New output dims in `a`'s group order; `order[k]` = the old output dim placed at new position k.
    const order = ordered.flatMap((group) => Array.from({ length: group.outTo - group.outFrom }, (_, k) => group.outFrom + k));
    const position = new Array<number>(order.length);
    order.forEach((oldDim, newDim) => (position[oldDim] = newDim));
    if (order.every((oldDim, k) => oldDim === k)) return undefined;
    return {
      layoutInputs: [0],
      outputPermutations: [position],
      apply(at: Builder) {
        if (shapeValues) {
          const values = order.map((oldDim) => shapeValues[oldDim]!);
          node.setInput(1, at.constant(Tensor.fromValues('int64', [values.length], values), `${node.name}_shape`));
          return;
        }
        const indices = at.constant(Tensor.fromValues('int64', [order.length], order), `${node.name}_shape_order`);
        const reordered = at.op1('onnx.Gather', [node.input(1), indices], {}, { types: [node.input(1).type] });
        node.setInput(1, reordered);
      },
    };
  },
};
