import type { AttributeSpec } from '@modelpass/ir';
import { BUILTIN_OPERATORS, OPTIONS_TABLES, TFLITE_ENUMS } from '../generated/schema-tables.js';
import type { OptionsField } from '../schema/table-types.js';

/**
 * How the dialect spells an options table's fields as IR attributes, 1:1 and mechanically:
 * - numbers and bools: `int` (bool as 0/1), floats: `float`;
 * - enum-valued fields: `string`, the enum member's name (`padding: 'SAME'`, `fused_activation_function: 'RELU6'`);
 * - vectors of numbers: `ints` / `floats`; strings: `string`;
 * - `<x>_subgraph_index` (IF, WHILE, CALL_ONCE, …) and CALL's `subgraph`: a `graph` attribute named
 *   `<x>_subgraph` (CALL: `subgraph`) holding the called subgraph as a region of the node.
 */
export interface OptionAttribute {
  /** The IR attribute name. */
  readonly attribute: string;
  readonly field: OptionsField;
  readonly spec: AttributeSpec;
  /** The field is a subgraph index carried as a `graph` attribute. */
  readonly subgraph: boolean;
}

const SUBGRAPH_INDEX_SUFFIX = '_subgraph_index';

function isSubgraphIndexField(table: string, field: OptionsField): boolean {
  if (field.kind !== 'scalar') return false;
  return field.name.endsWith(SUBGRAPH_INDEX_SUFFIX) || (table === 'CallOptions' && field.name === 'subgraph');
}

function attributeNameOf(table: string, field: OptionsField): string {
  if (!isSubgraphIndexField(table, field)) return field.name;
  return field.name.endsWith(SUBGRAPH_INDEX_SUFFIX) ? field.name.slice(0, -'_index'.length) : field.name;
}

const FLOAT_SCALARS = new Set(['float32', 'float64']);

function specOf(table: string, field: OptionsField): AttributeSpec {
  if (isSubgraphIndexField(table, field)) return { kind: 'graph', required: true, doc: `the subgraph ${table}.${field.name} names` };
  switch (field.kind) {
    case 'scalar':
      return FLOAT_SCALARS.has(field.scalar)
        ? { kind: 'float', default: field.default }
        : { kind: 'int', default: field.default, ...(field.scalar === 'bool' ? { oneOf: [0, 1] } : {}) };
    case 'enum': {
      const members = TFLITE_ENUMS[field.enum] ?? {};
      const defaultName = Object.entries(members).find(([, value]) => value === field.default)?.[0];
      return { kind: 'string', oneOf: Object.keys(members), ...(defaultName !== undefined ? { default: defaultName } : {}), doc: `enum ${field.enum}` };
    }
    case 'string':
      return { kind: 'string' };
    case 'vector':
      return { kind: FLOAT_SCALARS.has(field.element) ? 'floats' : 'ints' };
    case 'unsupported':
      return { kind: 'string', doc: `field of type ${field.type}: not supported yet` };
  }
}

const cache = new Map<string, readonly OptionAttribute[]>();

/** The attributes of options table `table` (e.g. `Conv2DOptions`), in field order (deprecated fields left out). */
export function optionAttributes(table: string): readonly OptionAttribute[] {
  let list = cache.get(table);
  if (!list) {
    const fields = OPTIONS_TABLES[table] ?? [];
    list = fields
      .filter((field) => !field.deprecated)
      .map((field) => ({ attribute: attributeNameOf(table, field), field, spec: specOf(table, field), subgraph: isSubgraphIndexField(table, field) }));
    cache.set(table, list);
  }
  return list;
}

/** The options table a BuiltinOperator takes, with the union it sits in, or undefined when it takes none. */
export function optionsTableOfBuiltin(builtin: string): { table: string; union: 1 | 2 } | undefined {
  const info = BUILTIN_OPERATORS[builtin];
  return info?.options && info.union ? { table: info.options, union: info.union } : undefined;
}
