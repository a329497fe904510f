import type { FlatBuilder } from './flat-builder.js';
import type { Node } from '@modelpass/ir';
import { TFLITE_ENUMS } from '../generated/schema-tables.js';
import { addScalarField, scalarVector } from './flat-vectors.js';
import type { OptionsWriting } from './operator-writing.js';

function value(node: Node, name: string): unknown {
  const attribute = node.getAttribute(name);
  return attribute && attribute.kind !== 'ref' ? attribute.value : undefined;
}

/**
 * Writes an options table from a node's attributes, field by field as the generated table
 * describes it (the reader's mirror): absent attributes take the schema default. A `graph`
 * attribute is written as the file index `subgraphIndex` gives its subgraph.
 */
export function exportOptions(builder: FlatBuilder, writing: OptionsWriting, node: Node, subgraphIndex: (node: Node, attribute: string) => number): number {
  const options = writing.options;
  // Strings and vectors go before the table (most options tables have none: no map then).
  let offsets: Map<string, number> | undefined;
  // Indexed loops (every operator of the file comes here): a for-of not yet optimized allocates per step.
  if (writing.hasOffsets) {
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
  }
  builder.startObject(writing.slotCount);
  for (let i = 0; i < options.length; i++) {
    const option = options[i]!;
    const field = option.field;
    if (option.subgraph && field.kind === 'scalar') {
      addScalarField(builder, field.scalar, field.slot, subgraphIndex(node, option.attribute), Number.NaN);
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
