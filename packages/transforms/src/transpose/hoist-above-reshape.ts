import { attrs, Builder, Tensor, type Node } from '@modelpass/ir';
import { shapeOf } from '../util/constants.js';
import { invertPermutation, permuteType, type Permutation } from './permutation.js';
import { reshapeGroups } from './reshape-rule.js';
import { transposeOf } from './transpose-node.js';

/**
 * `Transpose(Reshape(Transpose(a, p), s), q)` → `Reshape(Transpose(a, p'), s')`: the outer transpose
 * moves above a Reshape that splits or merges dims when it keeps each merged run together and in
 * order, and then merges with the inner one (ShuffleNet's channel shuffle ends as one transpose of
 * the two last dims in NHWC). Needs the Reshape's output dims with at most one unknown. Returns true
 * when it rewrote `transpose`.
 */
export function hoistTransposeAboveReshape(transpose: Node, perm: Permutation): boolean {
  const reshape = transpose.inputs[0]?.producer;
  const output = transpose.outputs[0];
  if (!reshape || reshape.op !== 'onnx.Reshape' || !output) return false;
  const reshaped = reshape.outputs[0]!;
  if (reshaped.useCount !== 1 || reshaped.isGraphOutput || (reshape.optionalAttr('allowzero', 'int') ?? 0) !== 0) return false;
  const inner = transposeOf(reshape.inputs[0]);
  if (!inner) return false;
  const inDims = shapeOf(reshape.inputs[0]);
  const outDims = shapeOf(reshaped);
  const finalDims = shapeOf(output);
  if (!inDims || !outDims || !finalDims || outDims.length !== perm.length) return false;
  if (finalDims.filter((d) => typeof d !== 'number').length > 1) return false;
  const groups = reshapeGroups(inDims, outDims);
  if (!groups) return false;
  const where = invertPermutation(perm); // where[d] = position of reshape output dim d after the transpose
  for (const group of groups) for (let d = group.outFrom + 1; d < group.outTo; d++) if (where[d] !== where[d - 1]! + 1) return false;
  const ordered = [...groups].sort((x, y) => where[x.outFrom]! - where[y.outFrom]!);
  const hoisted = ordered.flatMap((group) => Array.from({ length: group.to - group.from }, (_, k) => group.from + k));
  const at = Builder.before(reshape);
  const moved = at.op1('onnx.Transpose', [reshape.input(0)], { perm: attrs.ints(hoisted) }, { types: [permuteType(reshape.input(0).type, hoisted)] });
  const target = finalDims.map((d) => (typeof d === 'number' ? d : -1));
  const shape = at.constant(Tensor.fromValues('int64', [target.length], target.map((d) => BigInt(d))), `${reshape.name}_shape`);
  const replacement = at.op1('onnx.Reshape', [moved, shape], {}, { types: [output.type], name: `${reshape.name}_hoisted` });
  output.replaceAllUsesWith(replacement);
  if (!output.hasUses) transpose.erase();
  if (!reshaped.hasUses) reshape.erase();
  return true;
}
