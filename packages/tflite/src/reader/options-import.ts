import { attrs, type Attribute } from '@modelpass/ir';
import { TFLITE_ENUMS } from '../generated/schema-tables.js';
import { optionAttributes } from '../dialect/option-attributes.js';
import type { TableReader } from './table-reader.js';

/** An options field that is a subgraph index (IF's then/else, WHILE's cond/body, …): resolved by the caller. */
export interface SubgraphReference {
  readonly attribute: string;
  readonly index: number;
}

/**
 * Reads options table `table` (a BuiltinOptions or BuiltinOptions2 member) into IR attributes,
 * field by field as the generated table describes it; absent fields take the schema default.
 */
export function importOptions(
  table: string,
  reader: TableReader | undefined,
): { attributes: Map<string, Attribute>; subgraphs: SubgraphReference[] } {
  const attributes = new Map<string, Attribute>();
  const subgraphs: SubgraphReference[] = [];
  for (const option of optionAttributes(table)) {
    const field = option.field;
    const name = field.name;
    if (option.subgraph && field.kind === 'scalar') {
      subgraphs.push({ attribute: option.attribute, index: reader ? reader.scalar(field.slot, field.scalar, field.default, name) : field.default });
      continue;
    }
    switch (field.kind) {
      case 'scalar': {
        const value = reader ? reader.scalar(field.slot, field.scalar, field.default, name) : field.default;
        attributes.set(option.attribute, option.spec.kind === 'float' ? attrs.float(value) : attrs.int(value));
        break;
      }
      case 'enum': {
        const value = reader ? reader.scalar(field.slot, field.scalar, field.default, name) : field.default;
        const members = TFLITE_ENUMS[field.enum] ?? {};
        const member = Object.entries(members).find(([, v]) => v === value)?.[0];
        if (member === undefined) {
          reader?.bytes.fail(`${reader.path}.${name}`, `${value} is not a member of enum ${field.enum}`, String(value));
        }
        attributes.set(option.attribute, attrs.string(member ?? String(value)));
        break;
      }
      case 'string': {
        const value = reader?.string(field.slot, name);
        if (value !== undefined) attributes.set(option.attribute, attrs.string(value));
        break;
      }
      case 'vector': {
        if (!reader?.has(field.slot)) break;
        const values = reader.numbers(field.slot, field.element, name);
        attributes.set(option.attribute, option.spec.kind === 'floats' ? attrs.floats(values) : attrs.ints(values));
        break;
      }
      case 'unsupported':
        if (reader?.has(field.slot)) reader.bytes.fail(`${reader.path}.${name}`, `field of type ${field.type} is not supported yet`);
        break;
    }
  }
  return { attributes, subgraphs };
}
