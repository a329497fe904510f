import type { Builder } from 'flatbuffers';

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
const encoder = new TextEncoder();

/**
 * The npm `flatbuffers` Builder's layout, byte for byte (alignment, vtable sharing, back-to-front
 * order: the same calls give the same bytes), with two differences that make a model's file cheap
 * to write:
 * - `reserveVector` leaves a byte vector's contents out of memory (a gap: the writer streams the
 *   constant's data there), so the builder never holds, zeroes or copies the weights;
 * - ASCII strings and int32 vectors are written without an encoder's fresh array or a call per element.
 * Offsets are the file's (gaps included), so tables and vectors point across gaps as they would in
 * one buffer. The generated table code takes it through `asBuilder()`.
 */
export class FlatBuilder {
  private bytes: Uint8Array;
  /** Physical free-space mark: built bytes are `bytes[space..]`. */
  private space: number;
  /** Gap bytes already laid out (behind `space`). */
  private gapBytes = 0;
  private minalign = 1;
  private vtable: number[] = [];
  private vtableInUse = 0;
  private isNested = false;
  private objectStart = 0;
  /** Each written vtable: its offset (file order, from the end) and its physical distance from the end. */
  private readonly vtableOffsets: number[] = [];
  private readonly vtablePhysicalEnds: number[] = [];
  private vectorNumElems = 0;
  readonly gaps: FlatGap[] = [];

  constructor(initialBytes: number) {
    this.bytes = new Uint8Array(Math.max(16, initialBytes));
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
  }

  pad(byteSize: number): void {
    const bytes = this.bytes;
    for (let i = 0; i < byteSize; i++) bytes[--this.space] = 0;
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

  private writeInt32At(at: number, value: number): void {
    const bytes = this.bytes;
    bytes[at] = value;
    bytes[at + 1] = value >> 8;
    bytes[at + 2] = value >> 16;
    bytes[at + 3] = value >> 24;
  }

  private readInt16At(at: number): number {
    return ((this.bytes[at]! | (this.bytes[at + 1]! << 8)) << 16) >> 16;
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
    if (value != fallback) {
      this.addInt8(value);
      this.slot(slot);
    }
  }

  addFieldInt16(slot: number, value: number, fallback: number): void {
    if (value != fallback) {
      this.addInt16(value);
      this.slot(slot);
    }
  }

  addFieldInt32(slot: number, value: number, fallback: number): void {
    if (value != fallback) {
      this.addInt32(value);
      this.slot(slot);
    }
  }

  addFieldInt64(slot: number, value: bigint, fallback: bigint): void {
    if (value !== fallback) {
      this.addInt64(value);
      this.slot(slot);
    }
  }

  addFieldFloat32(slot: number, value: number, fallback: number): void {
    if (value != fallback) {
      this.addFloat32(value);
      this.slot(slot);
    }
  }

  addFieldFloat64(slot: number, value: number, fallback: number): void {
    if (value != fallback) {
      this.addFloat64(value);
      this.slot(slot);
    }
  }

  addFieldOffset(slot: number, value: number, fallback: number): void {
    if (value != fallback) {
      this.addOffset(value);
      this.slot(slot);
    }
  }

  private slot(slot: number): void {
    this.vtable[slot] = this.offset();
  }

  addOffset(offset: number): void {
    this.prep(SIZEOF_INT, 0);
    this.writeInt32(this.offset() - offset + SIZEOF_INT);
  }

  startObject(numFields: number): void {
    this.notNested();
    this.vtableInUse = numFields;
    for (let i = 0; i < numFields; i++) this.vtable[i] = 0;
    this.isNested = true;
    this.objectStart = this.offset();
  }

  endObject(): number {
    if (!this.isNested) throw new Error('FlatBuffers: endObject called without startObject');
    this.addInt32(0);
    const vtableloc = this.offset();
    let i = this.vtableInUse - 1;
    while (i >= 0 && this.vtable[i] === 0) i--;
    const trimmedSize = i + 1;
    for (; i >= 0; i--) this.addInt16(this.vtable[i] !== 0 ? vtableloc - this.vtable[i]! : 0);
    this.addInt16(vtableloc - this.objectStart);
    const len = (trimmedSize + 2) * 2;
    this.addInt16(len);
    // The first written vtable with the same bytes, as the npm Builder searches them.
    const vt1 = this.space;
    const capacity = this.bytes.length;
    let existing = 0;
    outer: for (let v = 0; v < this.vtableOffsets.length; v++) {
      const vt2 = capacity - this.vtablePhysicalEnds[v]!;
      if (len !== this.readInt16At(vt2)) continue;
      for (let j = 2; j < len; j += 2) if (this.readInt16At(vt1 + j) !== this.readInt16At(vt2 + j)) continue outer;
      existing = this.vtableOffsets[v]!;
      break;
    }
    if (existing) {
      // Drop the vtable just written; the table points at the earlier one.
      this.space = capacity - (vtableloc - this.gapBytes);
      this.writeInt32At(this.space, existing - vtableloc);
    } else {
      this.vtableOffsets.push(this.offset());
      this.vtablePhysicalEnds.push(capacity - this.space);
      this.writeInt32At(capacity - (vtableloc - this.gapBytes), this.offset() - vtableloc);
    }
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

  /** A vector of int32 (tensor shapes, operator inputs): the bytes of startVector + addInt32 per element. */
  int32Vector(values: ArrayLike<number>): number {
    const count = values.length;
    this.startVector(4, count, 4);
    for (let i = count - 1; i >= 0; i--) this.writeInt32(values[i]!);
    return this.endVector();
  }

  createString(text: string | Uint8Array | null | undefined): number {
    if (text === null || text === undefined) return 0;
    if (typeof text === 'string') {
      const length = text.length;
      let ascii = true;
      for (let i = 0; i < length; i++) {
        if (text.charCodeAt(i) > 0x7f) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        this.addInt8(0);
        this.startVector(1, length, 1);
        const at = (this.space -= length);
        const bytes = this.bytes;
        for (let i = 0; i < length; i++) bytes[at + i] = text.charCodeAt(i);
        return this.endVector();
      }
      text = encoder.encode(text);
    }
    this.addInt8(0);
    return this.createByteVector(text);
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
