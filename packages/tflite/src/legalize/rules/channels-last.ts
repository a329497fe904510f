import { type Node, type Type, type Value } from '@modelpass/ir';
import { channelsFirstPermutation, channelsLastPermutation, insertTranspose, permuteType } from '@modelpass/transforms';
import { dimsOf, type TfliteEmitter } from '../lowering-tools.js';

/** `Transpose(x, NCHW→NHWC)` before the node being lowered. */
export function toChannelsLast(emit: TfliteEmitter, value: Value): Value {
  const rank = dimsOf(value)!.length;
  return insertTranspose(emit.at, value, channelsLastPermutation(rank), `${emit.node.name}_to_nhwc`);
}

/** `Transpose(y, NHWC→NCHW)`: the NCHW value the rest of the graph reads. */
export function toChannelsFirst(emit: TfliteEmitter, value: Value): Value {
  const rank = dimsOf(value)!.length;
  return insertTranspose(emit.at, value, channelsFirstPermutation(rank), `${emit.node.name}_to_nchw`);
}

/** The NHWC type of a node's NCHW output. */
export function channelsLastType(node: Node, index = 0): Type {
  const output = node.output(index);
  const rank = dimsOf(output)?.length ?? 4;
  return permuteType(output.type, channelsLastPermutation(rank));
}
