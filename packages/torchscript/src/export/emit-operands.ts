/** Operand helpers the op emitters share: an input's TorchScript name, a shape value's static length, constant axes. */
import { isTensorType, type Node, type Value } from '@modelpass/ir';
import type { EmitContext } from './emit-context.js';

/** The TorchScript local of the node's input `index` (`None` when absent). */
export const input = (e: EmitContext, node: Node, index = 0): string => e.name(node.inputs[index] ?? null);

/** The length of a 1-D shape value when its type says. */
export function shapeLength(value: Value | null): number | undefined {
  if (!value || !isTensorType(value.type) || value.type.shape?.length !== 1) return undefined;
  const length = value.type.shape[0];
  return typeof length === 'number' ? length : undefined;
}

/** Axes from the attribute (before opset 13/18) or a constant input. */
export function axesOf(e: EmitContext, node: Node): readonly number[] | undefined {
  return node.optionalAttr('axes', 'ints') ?? e.constantInts(node.inputs[1] ?? null);
}
