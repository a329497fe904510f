import { BUILTIN_OPTIONS_UNION, BUILTIN_OPTIONS2_UNION, OPTIONS_TABLES } from '../generated/schema-tables.js';
import { builtinOfOp } from '../dialect/names.js';
import { optionAttributes, optionsTableOfBuiltin, type OptionAttribute } from '../dialect/option-attributes.js';

/** How the writer writes one options table: worked out once per table, not per operator. */
export interface OptionsWriting {
  readonly table: string;
  /** Which union of Operator the table sits in: 1 for `builtin_options`, 2 for `builtin_options_2`. */
  readonly union: 1 | 2;
  /** The table's type tag in that union. */
  readonly unionType: number;
  /** The table's slots (the highest field slot + 1). */
  readonly slotCount: number;
  readonly options: readonly OptionAttribute[];
  /** Whether any field is a string or a vector (written before the table). */
  readonly hasOffsets: boolean;
}

/** What the writer needs of one `tflite.*` op name. */
export interface OperatorWriting {
  readonly builtin: string;
  readonly options: OptionsWriting | undefined;
}

const BY_OP = new Map<string, OperatorWriting>();

/**
 * The builtin and options table of an op of the tflite dialect, from a per-process cache (every
 * operator of a file comes here; the schema look-ups behind it are dictionary reads and allocations).
 * The op must be a builtin one (assertExportable checks that first).
 */
export function operatorWriting(op: string): OperatorWriting {
  let writing = BY_OP.get(op);
  if (writing === undefined) {
    const builtin = builtinOfOp(op)!;
    const table = optionsTableOfBuiltin(builtin);
    let options: OptionsWriting | undefined;
    if (table) {
      const attributes = optionAttributes(table.table);
      options = {
        table: table.table,
        union: table.union,
        unionType: (table.union === 1 ? BUILTIN_OPTIONS_UNION : BUILTIN_OPTIONS2_UNION).indexOf(table.table) + 1,
        slotCount: (OPTIONS_TABLES[table.table] ?? []).reduce((max, field) => Math.max(max, field.slot + 1), 0),
        options: attributes,
        hasOffsets: attributes.some((option) => option.field.kind === 'string' || option.field.kind === 'vector'),
      };
    }
    writing = { builtin, options };
    BY_OP.set(op, writing);
  }
  return writing;
}
