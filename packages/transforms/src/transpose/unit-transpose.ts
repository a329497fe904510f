import { Builder, Tensor, type Node } from '@modelpass/ir';
import { shapeOf } from '../util/constants.js';
import { transposePermutation } from './transpose-node.js';

/**
 * A Transpose that moves only size-1 dims (the others keep their order) changes no element's
 * position in memory: it is a Reshape. Returns true when it replaced `node` by one (needs the
 * input's shape; a symbolic dim must stay in place, or be the only one that moves).
 */
export function unitTransposeAsReshape(node: Node): boolean {
  const perm = transposePermutation(node);
  const input = node.inputs[0];
  const output = node.outputs[0];
  const dims = shapeOf(input);
  if (!perm || !input || !output || !dims || dims.length !== perm.length) return false;
  const moving = perm.filter((axis) => dims[axis] !== 1);
  if (moving.some((axis, i) => i > 0 && axis < moving[i - 1]!)) return false;
  let inferred = 0;
  const target = perm.map((axis, i) => {
    const dim = dims[axis];
    if (typeof dim === 'number') return dim;
    if (axis === i) return 0;
    inferred++;
    return -1;
  });
  if (inferred > 1) return false;
  const at = Builder.before(node);
  const shape = at.constant(Tensor.fromValues('int64', [target.length], target), `${node.name}_shape`);
  const reshaped = at.op1('onnx.Reshape', [input, shape], {}, { types: [output.type], name: `${node.name}_as_reshape` });
  output.replaceAllUsesWith(reshaped);
  if (!output.hasUses) node.erase();
  return true;
}
