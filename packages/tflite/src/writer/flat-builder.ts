import type { Builder } from 'flatbuffers';
import { FIELD_FLOAT32, FIELD_FLOAT64, FIELD_INT16, FIELD_INT32, FIELD_INT64, FIELD_INT8, FIELD_OFFSET, layoutAt, layoutRoot, layoutStep, type LayoutNode } from './table-layout.js';

/**
 * A flatbuffer left out of the builder's memory: `length` bytes whose contents the caller supplies
 * (a constant's data), `physicalEnd` bytes of built memory after it.
 */
export interface FlatGap {
  readonly physicalEnd: number;
  readonly length: number;
}

const SIZEOF_INT = 4;
const FILE_IDENTIFIER_LENGTH = 4;
const float32 = new Float32Array(1);
const float64 = new Float64Array(1);
const int32OfFloat32 = new Int32Array(float32.buffer);
const int32OfFloat64 = new Int32Array(float64.buffer);
/** Strings up to this many UTF-16 units are checked for ASCII and stored by a loop; longer ones go through Buffer's encoder. */
const SHORT_STRING = 256;
/** Builder memory up to this size is kept for the next builder when released (see `release`). */
const MAX_SPARE_BYTES = 16 << 20;
/**
 * Memory a released builder handed back, taken by the next builder it is large enough for: a write no
 * longer allocates (and the kernel no longer zeroes and maps) ~100 KB of fresh pages per model. Stale
 * bytes in it are harmless: the builder writes every byte it hands out (padding, tables, vectors).
 */
let spare: Uint8Array | undefined;
/** Builders made so far (a layout remembers by this number which builder's vtable offset it holds). */
let builders = 0;

/**
 * The npm `flatbuffers` Builder's layout, byte for byte (alignment, vtable sharing, back-to-front
 * order: the same calls give the same bytes), with differences that make a model's file cheap
 * to write:
 * - `reserveVector` leaves a byte vector's contents out of memory (a gap: the writer streams the
 *   constant's data there), so the builder never holds, zeroes or copies the weights;
 * - a table's fields are queued and written at `endObject` from a cached layout (table-layout.ts):
 *   one zero fill and one store per field, the vtable found by the layout, not by comparing bytes;
 * - strings, int32 vectors and padding go through Buffer and typed-array builtins, not a JS loop per
 *   byte or element. In the bench's ten-conversion processes (issue 12) the writer's cost was V8
 *   compiling those per-byte call chains; with less JS per table, less of it gets hot.
 * Offsets are the file's (gaps included), so tables and vectors point across gaps as they would in
 * one buffer. Code written for the npm Builder (flatc's generated table classes, which the tests compare it
 * with) takes it through `asBuilder()`; the writer itself adds fields by slot (flatbuffer-build.ts).
 */
export class FlatBuilder {
  private bytes: Uint8Array;
  /**
   * The same memory as a Buffer, for its native UTF-8 writer only: Buffer's own `fill` is JavaScript
   * (argument checks, then the binding) that would get hot and compiled itself; the typed array's is a builtin.
   */
  private text: Buffer;
  /** Physical free-space mark: built bytes are `bytes[space..]`. */
  private space: number;
  /** Gap bytes already laid out (behind `space`). */
  private gapBytes = 0;
  private view: DataView;
  private minalign = 1;
  private isNested = false;
  private objectStart = 0;
  /** The open table's fields, in the order added (written at `endObject`, see table-layout.ts). */
  private fieldCount = 0;
  private fieldSlots = new Int32Array(16);
  private fieldKinds = new Uint8Array(16);
  private fieldValues = new Float64Array(16);
  private fieldLongs: bigint[] = [];
  /** Where the open table's queued fields lead in the layout trie (table-layout.ts). */
  private layoutCursor: LayoutNode = layoutRoot(0);
  /** Each written vtable's offset by its contents: a table whose vtable is already there points at it. */
  private readonly vtables = new Map<string, number>();
  private readonly id = ++builders;
  private vectorNumElems = 0;
  readonly gaps: FlatGap[] = [];

  constructor(initialBytes: number) {
    const wanted = Math.max(16, initialBytes);
    if (spare !== undefined && spare.byteLength >= wanted) {
      this.bytes = spare;
      spare = undefined;
    } else this.bytes = new Uint8Array(wanted);
    this.text = Buffer.from(this.bytes.buffer);
    this.view = new DataView(this.bytes.buffer);
    this.space = this.bytes.length;
  }

  /** This builder for the generated table functions (they only call the methods it has). */
  asBuilder(): Builder {
    return this as unknown as Builder;
  }

  /** Offset from the end of the finished file (gaps included). */
  offset(): number {
    return this.bytes.length - this.space + this.gapBytes;
  }

  /** Bytes of the finished file. */
  get fileLength(): number {
    return this.offset();
  }

  /** The built bytes, without the gaps (after `finish`). */
  builtBytes(): Uint8Array {
    return this.bytes.subarray(this.space);
  }

  /**
   * Hands this builder's memory to the next builder made (the built bytes are no longer read: a writer calls
   * this once the file is written); the builder must not be used after it.
   */
  release(): void {
    if (this.bytes.byteLength <= MAX_SPARE_BYTES && (spare === undefined || spare.byteLength < this.bytes.byteLength)) spare = this.bytes;
    this.bytes = new Uint8Array(0);
    this.text = Buffer.from(this.bytes.buffer);
    this.view = new DataView(this.bytes.buffer);
    this.space = 0;
  }

  /** Like Builder.prep; `physicalAdditional` is the part of `additional` that takes memory (not a gap). */
  prep(size: number, additional: number, physicalAdditional = additional): void {
    if (size > this.minalign) this.minalign = size;
    const alignSize = (~(this.offset() + additional) + 1) & (size - 1);
    this.ensureRoom(alignSize + size + physicalAdditional);
    this.pad(alignSize);
  }

  private ensureRoom(needed: number): void {
    if (this.space >= needed) return;
    const old = this.bytes;
    let capacity = old.length;
    while (capacity - old.length + this.space < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(old, capacity - old.length);
    this.space += capacity - old.length;
    this.bytes = grown;
    this.text = Buffer.from(grown.buffer);
    this.view = new DataView(grown.buffer);
  }

  pad(byteSize: number): void {
    // At most a few bytes (alignment): a loop costs less than the call to a fill builtin.
    const bytes = this.bytes;
    const end = this.space;
    for (let i = end - byteSize; i < end; i++) bytes[i] = 0;
    this.space = end - byteSize;
  }

  private writeInt16(value: number): void {
    const at = (this.space -= 2);
    this.bytes[at] = value;
    this.bytes[at + 1] = value >> 8;
  }

  private writeInt32(value: number): void {
    const at = (this.space -= 4);
    const bytes = this.bytes;
    bytes[at] = value;
    bytes[at + 1] = value >> 8;
    bytes[at + 2] = value >> 16;
    bytes[at + 3] = value >> 24;
  }

  addInt8(value: number): void {
    this.prep(1, 0);
    this.bytes[--this.space] = value;
  }

  addInt16(value: number): void {
    this.prep(2, 0);
    this.writeInt16(value);
  }

  addInt32(value: number): void {
    this.prep(4, 0);
    this.writeInt32(value);
  }

  addInt64(value: bigint): void {
    this.prep(8, 0);
    this.writeInt32(Number(BigInt.asIntN(32, value >> 32n)));
    this.writeInt32(Number(BigInt.asIntN(32, value)));
  }

  addFloat32(value: number): void {
    this.prep(4, 0);
    float32[0] = value;
    this.writeInt32(int32OfFloat32[0]!);
  }

  addFloat64(value: number): void {
    this.prep(8, 0);
    float64[0] = value;
    // Little-endian host assumed as the generated readers do: high word first, since we write backwards.
    this.writeInt32(int32OfFloat64[1]!);
    this.writeInt32(int32OfFloat64[0]!);
  }

  addFieldInt8(slot: number, value: number, fallback: number): void {
    if (value != fallback) this.queueField(slot, FIELD_INT8, value);
  }

  addFieldInt16(slot: number, value: number, fallback: number): void {
    if (value != fallback) this.queueField(slot, FIELD_INT16, value);
  }

  addFieldInt32(slot: number, value: number, fallback: number): void {
    if (value != fallback) this.queueField(slot, FIELD_INT32, value);
  }

  addFieldInt64(slot: number, value: bigint, fallback: bigint): void {
    if (value !== fallback) {
      this.fieldLongs[this.fieldCount] = value;
      this.queueField(slot, FIELD_INT64, 0);
    }
  }

  addFieldFloat32(slot: number, value: number, fallback: number): void {
    if (value != fallback) this.queueField(slot, FIELD_FLOAT32, value);
  }

  addFieldFloat64(slot: number, value: number, fallback: number): void {
    if (value != fallback) this.queueField(slot, FIELD_FLOAT64, value);
  }

  addFieldOffset(slot: number, value: number, fallback: number): void {
    if (value != fallback) this.queueField(slot, FIELD_OFFSET, value);
  }

  private queueField(slot: number, kind: number, value: number): void {
    if (!this.isNested) throw new Error('FlatBuffers: a table field added outside startObject/endObject');
    const at = this.fieldCount++;
    if (at === this.fieldSlots.length) this.growFields();
    this.fieldSlots[at] = slot;
    this.fieldKinds[at] = kind;
    this.fieldValues[at] = value;
    this.layoutCursor = layoutStep(this.layoutCursor, slot, kind);
  }

  private growFields(): void {
    const capacity = this.fieldSlots.length * 2;
    const slots = new Int32Array(capacity);
    const kinds = new Uint8Array(capacity);
    const values = new Float64Array(capacity);
    slots.set(this.fieldSlots);
    kinds.set(this.fieldKinds);
    values.set(this.fieldValues);
    this.fieldSlots = slots;
    this.fieldKinds = kinds;
    this.fieldValues = values;
  }

  addOffset(offset: number): void {
    this.prep(SIZEOF_INT, 0);
    this.writeInt32(this.offset() - offset + SIZEOF_INT);
  }

  startObject(_numFields: number): void {
    this.notNested();
    this.fieldCount = 0;
    this.isNested = true;
    this.objectStart = this.offset();
    this.layoutCursor = layoutRoot(this.objectStart);
  }

  /**
   * Writes the open table as the npm Builder would have field by field (same padding, same vtable
   * sharing: the first written vtable with the same bytes), from its layout (table-layout.ts).
   */
  endObject(): number {
    if (!this.isNested) throw new Error('FlatBuffers: endObject called without startObject');
    const count = this.fieldCount;
    const start = this.objectStart;
    const layout = layoutAt(this.layoutCursor, start, count, this.fieldSlots, this.fieldKinds);
    const size = layout.size;
    this.ensureRoom(size + layout.vtable.length);
    const bytes = this.bytes;
    const view = this.view;
    // `base` is where the file offset `start` lies in memory; the table takes the `size` bytes below it.
    const base = this.space;
    const tableAt = base - size;
    // Tables are a few dozen bytes: a loop costs less than the call to a fill builtin.
    for (let i = tableAt; i < base; i++) bytes[i] = 0;
    const ends = layout.fieldEnds;
    const kinds = this.fieldKinds;
    const values = this.fieldValues;
    for (let i = 0; i < count; i++) {
      const at = base - ends[i]!;
      const value = values[i]!;
      switch (kinds[i]) {
        case FIELD_INT8:
          bytes[at] = value;
          break;
        case FIELD_INT16:
          view.setInt16(at, value, true);
          break;
        case FIELD_INT32:
          view.setInt32(at, value, true);
          break;
        case FIELD_FLOAT32:
          view.setFloat32(at, value, true);
          break;
        case FIELD_OFFSET:
          view.setInt32(at, start + ends[i]! - value, true);
          break;
        case FIELD_INT64:
          view.setBigInt64(at, this.fieldLongs[i]!, true);
          break;
        case FIELD_FLOAT64:
          view.setFloat64(at, value, true);
          break;
      }
    }
    this.space = tableAt;
    if (layout.alignment > this.minalign) this.minalign = layout.alignment;
    const vtableloc = start + size;
    let vtableOffset = layout.builderId === this.id ? layout.vtableOffset : (this.vtables.get(layout.vtableKey) ?? 0);
    if (vtableOffset === 0) {
      bytes.set(layout.vtable, (this.space -= layout.vtable.length));
      vtableOffset = this.offset();
      this.vtables.set(layout.vtableKey, vtableOffset);
    }
    layout.builderId = this.id;
    layout.vtableOffset = vtableOffset;
    view.setInt32(tableAt, vtableOffset - vtableloc, true);
    this.isNested = false;
    return vtableloc;
  }

  private notNested(): void {
    if (this.isNested) throw new TypeError('FlatBuffers: object serialization must not be nested.');
  }

  startVector(elemSize: number, numElems: number, alignment: number): void {
    this.notNested();
    this.vectorNumElems = numElems;
    this.prep(SIZEOF_INT, elemSize * numElems);
    this.prep(alignment, elemSize * numElems);
  }

  endVector(): number {
    this.writeInt32(this.vectorNumElems);
    return this.offset();
  }

  /**
   * A vector of int32 (tensor shapes, operator inputs): the bytes of startVector + addInt32 per element
   * (ToInt32 of each value, little-endian), stored by one loop of DataView stores.
   */
  int32Vector(values: ArrayLike<number>): number {
    return this.int32VectorOf(values, 0, values.length);
  }

  /** `int32Vector` of `values[from .. from + count)` (operators' operand indices, kept in one flat list by the plan). */
  int32VectorOf(values: ArrayLike<number>, from: number, count: number): number {
    this.startVector(4, count, 4);
    const view = this.view;
    let at = (this.space -= 4 * count);
    for (let i = from; i < from + count; i++, at += 4) view.setInt32(at, values[i]!, true);
    return this.endVector();
  }

  /** A vector of offsets to objects written earlier: the bytes of startVector + addOffset per element. */
  offsetVector(offsets: readonly number[]): number {
    const count = offsets.length;
    this.startVector(4, count, 4);
    const view = this.view;
    // Element i lies at file offset `end - 4 * i` once written (startVector aligned it): stored relative to itself.
    const end = this.offset() + 4 * count;
    let at = (this.space -= 4 * count);
    for (let i = 0; i < count; i++, at += 4) view.setInt32(at, end - 4 * i - offsets[i]!, true);
    return this.endVector();
  }

  /** A string as its UTF-8 bytes and a 0 terminator: short ASCII ones stored by a loop, others encoded in place by Buffer's native writer. */
  createString(text: string | Uint8Array | null | undefined): number {
    if (text === null || text === undefined) return 0;
    this.addInt8(0);
    if (typeof text !== 'string') return this.createByteVector(text);
    if (text.length <= SHORT_STRING && this.asciiString(text)) return this.endVector();
    const length = Buffer.byteLength(text);
    this.startVector(1, length, 1);
    this.text.write(text, (this.space -= length), length);
    return this.endVector();
  }

  /**
   * Names are mostly short and ASCII: lays `text` out as a vector of one byte per UTF-16 unit, stored by a loop
   * (no calls into Buffer's encoder), all but its length prefix. At the first unit past ASCII, undoes the layout
   * (the space and alignment the vector took; bytes below `space` are free memory) and returns false.
   */
  private asciiString(text: string): boolean {
    const space = this.space;
    const capacity = this.bytes.byteLength;
    const minalign = this.minalign;
    const count = text.length;
    this.startVector(1, count, 1);
    const bytes = this.bytes;
    const at = (this.space -= count);
    for (let i = 0; i < count; i++) {
      const unit = text.charCodeAt(i);
      if (unit > 0x7f) {
        this.space = space + (bytes.byteLength - capacity); // the memory may have grown (it grows at the front)
        this.minalign = minalign;
        return false;
      }
      bytes[at + i] = unit;
    }
    return true;
  }

  createByteVector(bytes: Uint8Array): number {
    this.startVector(1, bytes.length, 1);
    this.bytes.set(bytes, (this.space -= bytes.length));
    return this.endVector();
  }

  /**
   * Room for a byte vector of `length` bytes, its first byte 16-byte aligned in the file (TFLite's
   * `force_align: 16`), left out of memory: a gap the caller fills when writing the file.
   */
  reserveVector(length: number): number {
    this.notNested();
    this.prep(16, length, 0);
    this.vectorNumElems = length;
    this.prep(SIZEOF_INT, length, 0);
    this.prep(1, length, 0);
    this.gaps.push({ physicalEnd: this.bytes.length - this.space, length });
    this.gapBytes += length;
    return this.endVector();
  }

  finish(rootTable: number, fileIdentifier?: string): void {
    if (fileIdentifier !== undefined) {
      this.prep(this.minalign, SIZEOF_INT + FILE_IDENTIFIER_LENGTH);
      if (fileIdentifier.length !== FILE_IDENTIFIER_LENGTH) throw new TypeError(`FlatBuffers: file identifier must be length ${FILE_IDENTIFIER_LENGTH}`);
      for (let i = FILE_IDENTIFIER_LENGTH - 1; i >= 0; i--) this.bytes[--this.space] = fileIdentifier.charCodeAt(i);
    }
    this.prep(this.minalign, SIZEOF_INT);
    this.addOffset(rootTable);
  }
}

/**
 * One builder alive for the life of the process. V8 forgets the hidden classes of a class's instances once no
 * instance is left (the field transitions from the class's initial map are weak), and with them discards the
 * optimized code of every method that relied on them ("weak objects"): each write then ran its ~25 builder
 * methods interpreted and optimized them again (issue 12: about 30 of those recompiles in every one of 20 conversions
 * of fashion-transformer in one process). A 16-byte builder keeps the classes, and so the code, alive.
 */
export const KEEP_BUILDER_CLASSES_ALIVE: FlatBuilder = new FlatBuilder(16);
