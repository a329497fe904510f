import type { FlatBuilder } from './flat-builder.js';
import type { Node } from '@modelpass/ir';
import { OPTIONS_TABLES, TFLITE_ENUMS } from '../generated/schema-tables.js';
import { optionAttributes } from '../dialect/option-attributes.js';
import { addScalarField, scalarVector } from './flat-vectors.js';

/**
 * Writes options table `table` from a node's attributes, field by field as the generated table
 * describes it (the reader's mirror): absent attributes take the schema default. `subgraphIndex`
 * gives the file index of the subgraph a `graph` attribute holds.
 */
/** Slots of each options table (the highest field slot + 1), counted once per table. */
const SLOT_COUNTS = new Map<string, number>();

function slotCountOf(table: string): number {
  let count = SLOT_COUNTS.get(table);
  if (count === undefined) {
    count = (OPTIONS_TABLES[table] ?? []).reduce((max, field) => Math.max(max, field.slot + 1), 0);
    SLOT_COUNTS.set(table, count);
  }
  return count;
}

function value(node: Node, name: string): unknown {
  const attribute = node.getAttribute(name);
  return attribute && attribute.kind !== 'ref' ? attribute.value : undefined;
}

export function exportOptions(builder: FlatBuilder, table: string, node: Node, subgraphIndex: (attribute: string) => number): number {
  const options = optionAttributes(table);
  // Strings and vectors go before the table (most options tables have none: no map then).
  let offsets: Map<string, number> | undefined;
  // Indexed loops (every operator of the file comes here): a for-of not yet optimized allocates per step.
  for (let i = 0; i < options.length; i++) {
    const option = options[i]!;
    const field = option.field;
    if (field.kind !== 'string' && field.kind !== 'vector') continue;
    const current = value(node, option.attribute);
    if (current === undefined) continue;
    offsets ??= new Map<string, number>();
    if (field.kind === 'string') offsets.set(option.attribute, builder.createString(current as string));
    else offsets.set(option.attribute, scalarVector(builder, field.element, current as readonly number[]));
  }
  builder.startObject(slotCountOf(table));
  for (let i = 0; i < options.length; i++) {
    const option = options[i]!;
    const field = option.field;
    if (option.subgraph && field.kind === 'scalar') {
      addScalarField(builder, field.scalar, field.slot, subgraphIndex(option.attribute), Number.NaN);
      continue;
    }
    const current = value(node, option.attribute);
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
        const offset = offsets?.get(option.attribute);
        if (offset !== undefined) builder.addFieldOffset(field.slot, offset, 0);
        break;
      }
      case 'unsupported':
        break;
    }
  }
  return builder.endObject();
}
