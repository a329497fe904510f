/**
 * Where a flatbuffer table's fields go, worked out once per kind of table instead of field by field.
 *
 * The npm `flatbuffers` Builder writes a table back to front: each field is padded to its own size
 * (counted from the end of the file), then a 4-byte offset to the vtable is padded and written, then
 * the vtable (its length, the table's size, one int16 per slot up to the last present one). Given the
 * fields in the order they were added (slot and width) and the table's start offset modulo 8, every
 * position and the whole vtable follow; tables of one kind mostly share them. A trie keyed by exactly
 * those inputs caches that arithmetic, walked a field at a time as the builder queues them
 * (`layoutRoot`, `layoutStep`, `layoutAt`), so the builder writes a table as one zero fill and one
 * store per field, and looks its vtable up by the layout instead of comparing bytes.
 */

/** How a queued field's value is stored. */
export const FIELD_INT8 = 0;
export const FIELD_INT16 = 1;
export const FIELD_INT32 = 2;
export const FIELD_FLOAT32 = 3;
/** A 4-byte offset to an object written earlier (stored relative to the field's own position). */
export const FIELD_OFFSET = 4;
export const FIELD_INT64 = 5;
export const FIELD_FLOAT64 = 6;
const FIELD_KINDS = 7;
const WIDTH_OF_KIND = [1, 2, 4, 4, 4, 8, 8];

export interface TableLayout {
  /** Bytes from the table's start offset to its vtable offset field (the table's file offset). */
  readonly size: number;
  /** Per queued field, in the order added: its end (the offset after it) less the table's start. */
  readonly fieldEnds: Int32Array;
  /** The vtable's bytes as they lie in memory (length, table size, one int16 per slot). */
  readonly vtable: Uint8Array;
  /** The vtable's contents as a string: two tables whose vtables are equal share one. */
  readonly vtableKey: string;
  /** The widest alignment the table's fields ask for (the file's alignment is the widest of all). */
  readonly alignment: number;
  /** The builder that last wrote this layout's vtable, and its offset there (so a repeat skips the lookup). */
  builderId: number;
  vtableOffset: number;
}

/**
 * One step of the layout trie: the fields queued so far. The builder walks it as fields are queued
 * (`layoutStep` per field), so `endObject` finds the layout without a look-up per field; children are
 * held in an array indexed by slot and kind (a few hundred codes at most), not a Map.
 */
export interface LayoutNode {
  readonly next: (LayoutNode | undefined)[];
  layout: TableLayout | undefined;
}

const newNode = (): LayoutNode => ({ next: [], layout: undefined });
/** One root per start offset modulo 8; below it one level per field (slot and kind). */
const ROOTS: LayoutNode[] = Array.from({ length: 8 }, newNode);

/** The trie's root for a table started at file offset `start`. */
export function layoutRoot(start: number): LayoutNode {
  return ROOTS[start & 7]!;
}

/** The node after `node` with one more field, at `slot` of `kind`. */
export function layoutStep(node: LayoutNode, slot: number, kind: number): LayoutNode {
  const code = slot * FIELD_KINDS + kind;
  let child = node.next[code];
  if (child === undefined) {
    child = newNode();
    node.next[code] = child;
  }
  return child;
}

/**
 * The layout at `node` (reached from `layoutRoot(start)` by the first `count` queued fields,
 * `slots[i]` of kind `kinds[i]`, in the order they were added), worked out on its first use.
 */
export function layoutAt(node: LayoutNode, start: number, count: number, slots: Int32Array, kinds: Uint8Array): TableLayout {
  return (node.layout ??= computeLayout(start & 7, count, slots, kinds));
}

function computeLayout(startModulo: number, count: number, slots: Int32Array, kinds: Uint8Array): TableLayout {
  const fieldEnds = new Int32Array(count);
  const endOfSlot: number[] = [];
  let end = 0;
  let alignment = 4;
  for (let i = 0; i < count; i++) {
    const width = WIDTH_OF_KIND[kinds[i]!]!;
    end += (-(startModulo + end) & (width - 1)) + width;
    fieldEnds[i] = end;
    endOfSlot[slots[i]!] = end;
    if (width > alignment) alignment = width;
  }
  // The table's offset to its vtable, 4-byte aligned: the table's own offset is right after it.
  const size = end + (-(startModulo + end) & 3) + 4;
  const slotCount = endOfSlot.length;
  const vtable = new Uint8Array((slotCount + 2) * 2);
  const view = new DataView(vtable.buffer);
  view.setInt16(0, vtable.length, true);
  view.setInt16(2, size, true);
  for (let slot = 0; slot < slotCount; slot++) {
    const fieldEnd = endOfSlot[slot];
    view.setInt16(4 + 2 * slot, fieldEnd === undefined ? 0 : size - fieldEnd, true);
  }
  return { size, fieldEnds, vtable, vtableKey: vtable.join(','), alignment, builderId: 0, vtableOffset: 0 };
}
