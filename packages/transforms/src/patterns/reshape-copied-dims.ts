import { Tensor, type Node, type Value } from '@modelpass/ir';
import { intsOf, shapeOf } from '../util/constants.js';
import { hasSingleUse } from '../util/graph-walk.js';
import { replaceWithConstant } from '../util/fold.js';
import { declined, definePattern, type TransformPattern } from './pattern.js';
import { intsAttributeOrInput } from './helpers.js';

const NAME = 'reshape-copied-dims';

/**
 * The dim a piece of a Concat'ed shape reads at run time: `Unsqueeze(Gather(Shape(y), i), [0])`
 * gives y's dim i (symbolic or not). Undefined for anything else.
 */
function gatheredDim(piece: Value): number | string | null | undefined {
  const unsqueeze = piece.producer;
  if (unsqueeze?.op !== 'onnx.Unsqueeze') return undefined;
  const axes = intsAttributeOrInput(unsqueeze, 'axes', 1);
  if (!axes || axes.length !== 1 || (axes[0] !== 0 && axes[0] !== -1)) return undefined;
  const gather = unsqueeze.inputs[0]?.producer;
  if (gather?.op !== 'onnx.Gather' || (gather.optionalAttr('axis', 'int') ?? 0) !== 0) return undefined;
  const index = gather.inputs[1];
  const indices = intsOf(index);
  if (!index || !indices || indices.length !== 1 || shapeOf(index)?.length !== 0) return undefined;
  const shapeNode = gather.inputs[0]?.producer;
  if (shapeNode?.op !== 'onnx.Shape' || shapeNode.getAttribute('start') || shapeNode.getAttribute('end')) return undefined;
  const dims = shapeOf(shapeNode.inputs[0]);
  if (!dims) return undefined;
  const i = indices[0]! < 0 ? indices[0]! + dims.length : indices[0]!;
  return i >= 0 && i < dims.length ? dims[i] : undefined;
}

/**
 * Reshape(x, Concat(Unsqueeze(Gather(Shape(y), 0)), 28, 4, 16)) — an exporter's spelling of "keep the
 * batch dim" — reads x's own dim at that place whenever y's dim 0 is x's dim 0 (the same symbolic
 * dim, e.g. both `N`). Such a Reshape gets a constant shape with 0 there (ONNX: copy the input's dim;
 * not with allowzero=1) and the other Concat pieces' constant values, and the Shape → Gather →
 * Unsqueeze → Concat chain dies (dce). The outputs are the same for every N. Only when every piece is
 * a constant or such a dim, the Concat feeds this Reshape alone, and shape inference proved each
 * equality (an unknown dim is left alone). The constant takes the Concat output's name.
 */
export const reshapeCopiedDims = definePattern({
  name: NAME,
  ops: ['onnx.Reshape'],
  statistic: 'nodes-removed',
  rewrite(node: Node, _rewriter, env) {
    const [input, shapeInput] = node.inputs;
    const concat = shapeInput?.producer;
    if (!input || !shapeInput || concat?.op !== 'onnx.Concat') return false;
    if (node.optionalAttr('allowzero', 'int') === 1) return declined(env, NAME, node, 'allowzero=1: 0 would be a zero-sized dim, not a copy');
    if (!hasSingleUse(shapeInput)) return declined(env, NAME, node, `its shape '${shapeInput.name}' has other readers`);
    const inputDims = shapeOf(input);
    if (!inputDims) return false;
    const target: number[] = [];
    let copied = 0;
    for (const piece of concat.inputs) {
      if (!piece) return false;
      const constant = intsOf(piece);
      if (constant) {
        target.push(...constant);
        continue;
      }
      const dim = gatheredDim(piece);
      const position = target.length;
      if (dim === undefined || dim === null) return false;
      if (dim !== inputDims[position]) return declined(env, NAME, node, `shape piece ${position} reads dim '${dim}', not the input's '${inputDims[position] ?? 'none'}' at that place`);
      target.push(typeof dim === 'number' ? dim : 0);
      copied++;
    }
    if (copied === 0) return false;
    replaceWithConstant(shapeInput, Tensor.fromValues('int64', [target.length], target.map((v) => BigInt(v))), concat);
    return true;
  },
});

export const reshapePatterns: readonly TransformPattern[] = [reshapeCopiedDims];
