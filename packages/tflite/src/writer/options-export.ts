import type { Builder } from 'flatbuffers';
import type { Node } from '@modelpass/ir';
import { OPTIONS_TABLES, TFLITE_ENUMS } from '../generated/schema-tables.js';
import { optionAttributes } from '../dialect/option-attributes.js';
import { addScalarField, scalarVector } from './flat-vectors.js';

/**
 * Writes options table `table` from a node's attributes, field by field as the generated table
 * describes it (the reader's mirror): absent attributes take the schema default. `subgraphIndex`
 * gives the file index of the subgraph a `graph` attribute holds.
 */
export function exportOptions(builder: Builder, table: string, node: Node, subgraphIndex: (attribute: string) => number): number {
  const fields = OPTIONS_TABLES[table] ?? [];
  const options = optionAttributes(table);
  const offsets = new Map<string, number>();
  const value = (name: string): unknown => {
    const attribute = node.getAttribute(name);
    return attribute && attribute.kind !== 'ref' ? attribute.value : undefined;
  };
  for (const option of options) {
    const field = option.field;
    const current = value(option.attribute);
    if (current === undefined) continue;
    if (field.kind === 'string') offsets.set(option.attribute, builder.createString(current as string));
    if (field.kind === 'vector') offsets.set(option.attribute, scalarVector(builder, field.element, current as readonly number[]));
  }
  const slotCount = fields.reduce((max, field) => Math.max(max, field.slot + 1), 0);
  builder.startObject(slotCount);
  for (const option of options) {
    const field = option.field;
    if (option.subgraph && field.kind === 'scalar') {
      addScalarField(builder, field.scalar, field.slot, subgraphIndex(option.attribute), Number.NaN);
      continue;
    }
    const current = value(option.attribute);
    switch (field.kind) {
      case 'scalar':
        if (current !== undefined) addScalarField(builder, field.scalar, field.slot, current as number, field.default);
        break;
      case 'enum': {
        if (current === undefined) break;
        const member = TFLITE_ENUMS[field.enum]?.[current as string];
        if (member !== undefined) addScalarField(builder, field.scalar, field.slot, member, field.default);
        break;
      }
      case 'string':
      case 'vector': {
        const offset = offsets.get(option.attribute);
        if (offset !== undefined) builder.addFieldOffset(field.slot, offset, 0);
        break;
      }
      case 'unsupported':
        break;
    }
  }
  return builder.endObject();
}
