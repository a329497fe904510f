import { attrs, Builder, Tensor, type Node } from '@modelpass/ir';
import { shapeOf } from '../util/constants.js';
import { invertPermutation, permuteType, type Permutation } from './permutation.js';
import { reshapeGroups } from './reshape-rule.js';
import { transposeOf } from './transpose-node.js';

/** Ops that only regroup dims (row-major order unchanged), as a chain between two transposes may hold them. */
export const RESHAPE_LIKE_OPS: ReadonlySet<string> = new Set(['onnx.Reshape', 'onnx.Unsqueeze', 'onnx.Squeeze', 'onnx.Flatten']);

function regroupsOnly(node: Node): boolean {
  return RESHAPE_LIKE_OPS.has(node.op) && (node.op !== 'onnx.Reshape' || (node.optionalAttr('allowzero', 'int') ?? 0) === 0);
}

/**
 * `Transpose(Reshape(Transpose(a, p), s), q)` → `Reshape(Transpose(a, p'), s')`: the outer transpose
 * moves above a Reshape that splits or merges dims when it keeps each merged run together and in
 * order, and then merges with the inner one (ShuffleNet's channel shuffle ends as one transpose of
 * the two last dims in NHWC). The Reshape may be a chain of single-reader Reshape / Unsqueeze /
 * Squeeze / Flatten (a 1-D Conv's Unsqueeze after a Reshape that merges C and H, as CRNNs feed a
 * Conv1d). Needs the chain's output dims with at most one unknown. Returns true when it rewrote `transpose`.
 */
export function hoistTransposeAboveReshape(transpose: Node, perm: Permutation): boolean {
  const output = transpose.outputs[0];
  const chain: Node[] = [];
  for (let value = transpose.inputs[0]; ; ) {
    const producer = value?.producer;
    if (!value || !producer || !regroupsOnly(producer) || value.useCount !== 1 || value.isGraphOutput || chain.length >= 8) break;
    chain.push(producer);
    value = producer.inputs[0];
  }
  const reshape = chain[chain.length - 1];
  if (!reshape || !output) return false;
  const reshaped = chain[0]!.outputs[0]!;
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
  const shape = at.constant(Tensor.fromValues('int64', [target.length], target), `${reshape.name}_shape`);
  const replacement = at.op1('onnx.Reshape', [moved, shape], {}, { types: [output.type], name: `${reshape.name}_hoisted` });
  output.replaceAllUsesWith(replacement);
  if (!output.hasUses) transpose.erase();
  for (const node of chain) if (!node.outputs[0]!.hasUses) node.erase();
  return true;
}
