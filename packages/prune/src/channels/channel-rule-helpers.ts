/** Helpers shared by the channel rules. */
import type { Node, Tensor, Value } from '@modelpass/ir';
import type { ChannelAnalysis } from './dependency-groups.js';

export type ChannelRule = (node: Node, analysis: ChannelAnalysis) => void;

export function describeNode(node: Node): string {
  return `${node.opType} '${node.name}'`;
}

/** Refuses every tracked input of a node the analysis does not understand. */
export function refuseUnknownOp(node: Node, analysis: ChannelAnalysis, why: string): void {
  for (const input of node.inputs) {
    const dim = analysis.trackedOf(input);
    if (dim) analysis.refuse(dim.layout, `${describeNode(node)} ${why}`);
  }
}

export function shapeOf(value: Value | null | undefined): readonly (number | string | null)[] | undefined {
  if (!value || value.type.kind !== 'tensor' || value.type.shape === null) return undefined;
  return value.type.shape;
}


/** A value's constant data: an initializer, or the output of an `onnx.Constant` node (`value`). */
export function constantOf(value: Value | null | undefined): Tensor | undefined {
  if (!value) return undefined;
  if (value.constant) return value.constant;
  const producer = value.producer;
  return producer?.op === 'onnx.Constant' ? producer.optionalAttr('value', 'tensor') : undefined;
}
