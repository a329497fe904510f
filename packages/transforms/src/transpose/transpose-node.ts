import type { Node, Value } from '@modelpass/ir';
import { rankOf } from '../util/constants.js';
import type { Permutation } from './permutation.js';

/** The permutation of an `onnx.Transpose` node (the default reverses the axes), undefined when its rank is unknown. */
export function transposePermutation(node: Node): Permutation | undefined {
  const perm = node.optionalAttr('perm', 'ints');
  if (perm) return perm;
  const rank = rankOf(node.inputs[0]);
  return rank === undefined ? undefined : Array.from({ length: rank }, (_, i) => rank - 1 - i);
}

/** When an `onnx.Transpose` produces `value`: that node and its permutation. */
export function transposeOf(value: Value | null | undefined): { node: Node; perm: Permutation } | undefined {
  const producer = value?.producer;
  if (!producer || producer.op !== 'onnx.Transpose') return undefined;
  const perm = transposePermutation(producer);
  return perm ? { node: producer, perm } : undefined;
}
