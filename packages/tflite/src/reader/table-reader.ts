import { tfliteError } from '../io/errors.js';

/**
 * Bounds-checked access to a FlatBuffers table. The npm `flatbuffers` runtime trusts its input (a
 * bad offset reads garbage or throws a RangeError deep inside, a huge vector length loops for
 * ever), so the reader goes through this instead: every offset, string and vector is checked
 * against the buffer before use, and a failure names the field path (`subgraphs[0].tensors[7].shape`).
 * Slots come from generated/schema-tables.ts (`TABLE_SLOTS`).
 */
export type ScalarKind = 'bool' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64';

const SIZES: Readonly<Record<ScalarKind, number>> = {
  bool: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8, float32: 4, float64: 8,
};

export function scalarSize(kind: ScalarKind): number {
  return SIZES[kind];
}

/**
 * Thrown when a read falls past the bytes read so far but inside the file: the reader reads a
 * window of the file first (a model with its weights after the flatbuffer needs only the start) and
 * reads a larger one when the flatbuffer turns out to be bigger.
 */
export class WindowTooSmall extends Error {
  constructor(readonly needed: number) {
    super(`the flatbuffer reaches byte ${needed}`);
  }
}

/** The bytes of a flatbuffer (a window of the file's first bytes) and the file they came from (for error locations). */
export class FlatBytes {
  readonly view: DataView;
  /** How far the flatbuffer may reach: the file's size, at most 2 GiB (a flatbuffer's limit). */
  private readonly reach: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
    reach = bytes.byteLength,
    /** Reads bytes of the file outside the window (for the length of a data vector that lies beyond it). */
    private readonly readOutside?: (position: number, length: number) => Uint8Array,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.reach = Math.max(reach, bytes.byteLength);
  }

  /** A read ending at `end` is past the window: ask for a larger one when the file has those bytes. */
  private beyondWindow(end: number): void {
    if (end > this.length && end <= this.reach) throw new WindowTooSmall(end);
  }

  get length(): number {
    return this.bytes.byteLength;
  }

  /** A uint32 at `position`, from the window or, past it, from the file. */
  readFileUint32(position: number, path: string): number {
    if (position + 4 <= this.length || !this.readOutside || position + 4 > this.reach) return this.read('uint32', position, path);
    const bytes = this.readOutside(position, 4);
    return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  }

  /** The flatbuffer's possible extent: the file's size, at most 2 GiB. */
  get extent(): number {
    return this.reach;
  }

  /** For callers that test bounds themselves: throws WindowTooSmall when `end` is in the file but past the window. */
  windowCheck(end: number): void {
    this.beyondWindow(end);
  }

  fail(path: string, reason: string, actual?: string): never {
    throw tfliteError({
      reason: `malformed TFLite file: ${path}: ${reason}`,
      location: { file: this.file },
      ...(actual !== undefined ? { actual } : {}),
      hint: 'the file is truncated or not a TFLite flatbuffer; re-export the model',
      code: 'tflite/malformed',
    });
  }

  check(position: number, size: number, path: string): void {
    if (!Number.isSafeInteger(position) || position < 0 || position + size > this.length) {
      if (Number.isSafeInteger(position) && position >= 0) this.beyondWindow(position + size);
      this.fail(path, `offset ${position} (+${size} bytes) is outside the ${this.length}-byte flatbuffer`);
    }
  }

  read(kind: ScalarKind, position: number, path: string): number {
    this.check(position, SIZES[kind], path);
    const v = this.view;
    switch (kind) {
      case 'bool':
      case 'uint8':
        return v.getUint8(position);
      case 'int8':
        return v.getInt8(position);
      case 'int16':
        return v.getInt16(position, true);
      case 'uint16':
        return v.getUint16(position, true);
      case 'int32':
        return v.getInt32(position, true);
      case 'uint32':
        return v.getUint32(position, true);
      case 'int64':
        return bigToNumber(v.getBigInt64(position, true), this, path);
      case 'uint64':
        return bigToNumber(v.getBigUint64(position, true), this, path);
      case 'float32':
        return v.getFloat32(position, true);
      case 'float64':
        return v.getFloat64(position, true);
    }
  }
}

/** Strings of a flatbuffer are UTF-8 (the schema's `string`); a byte sequence that is not is refused, not replaced. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function describeBytes(bytes: Uint8Array): string {
  return `bytes ${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ')}`;
}

function bigToNumber(value: bigint, bytes: FlatBytes, path: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    bytes.fail(path, 'a 64-bit value is beyond 2^53', value.toString());
  }
  return Number(value);
}

/**
 * The position an offset (uoffset_t) at `at` points to, checked as FlatBuffers' verifier checks it: the offset
 * 4-byte aligned, not 0 (pointing at itself), below 2^31, and its target (a table, a vector's or a string's
 * length) 4-byte aligned.
 */
function followOffset(bytes: FlatBytes, at: number, path: string): number {
  if (at % 4 !== 0) bytes.fail(path, `the offset field at ${at} is not 4-byte aligned`);
  const offset = bytes.read('uint32', at, path);
  if (offset === 0 || offset >= 0x80000000) bytes.fail(path, `the offset at ${at} is ${offset} (expected an offset in [1, 2^31) past the field)`);
  const target = at + offset;
  if (target % 4 !== 0) bytes.fail(path, `the offset at ${at} points to ${target}, which is not 4-byte aligned`);
  return target;
}

/** A vector's first element position and length, checked to lie inside the buffer. */
export interface VectorRange {
  readonly start: number;
  readonly length: number;
}

export class TableReader {
  private readonly vtable: number;
  private readonly vtableSize: number;

  constructor(
    readonly bytes: FlatBytes,
    readonly position: number,
    readonly path: string,
  ) {
    // FlatBuffers' verifier (run by TFLite at load) checks alignment: a table on 4 bytes, its vtable on 2.
    if (position % 4 !== 0) bytes.fail(path, `the table at offset ${position} is not 4-byte aligned`);
    const relative = bytes.read('int32', position, path);
    const vtable = position - relative;
    if (vtable % 2 !== 0) bytes.fail(`${path} (vtable)`, `the vtable at offset ${vtable} is not 2-byte aligned`);
    bytes.check(vtable, 4, `${path} (vtable)`);
    this.vtable = vtable;
    this.vtableSize = bytes.read('uint16', vtable, path);
    if (this.vtableSize < 4 || this.vtableSize % 2 !== 0) bytes.fail(path, `vtable size ${this.vtableSize} is invalid`);
    bytes.check(vtable, this.vtableSize, `${path} (vtable)`);
  }

  /** The root table of a flatbuffer. */
  static root(bytes: FlatBytes, path: string): TableReader {
    if (bytes.length < 8) bytes.fail(path, 'the file is shorter than a flatbuffer header', `${bytes.length} bytes`);
    return new TableReader(bytes, bytes.read('uint32', 0, path), path);
  }

  /** Absolute position of field `slot`, or 0 when the field is absent. */
  fieldPosition(slot: number): number {
    const entry = 4 + 2 * slot;
    if (entry + 2 > this.vtableSize) return 0;
    const offset = this.bytes.read('uint16', this.vtable + entry, this.path);
    return offset === 0 ? 0 : this.position + offset;
  }

  has(slot: number): boolean {
    return this.fieldPosition(slot) !== 0;
  }

  scalar(slot: number, kind: ScalarKind, fallback: number, name: string): number {
    const at = this.fieldPosition(slot);
    if (at === 0) return fallback;
    if (at % SIZES[kind] !== 0) this.bytes.fail(`${this.path}.${name}`, `the ${kind} field at offset ${at} is not ${SIZES[kind]}-byte aligned`);
    return this.bytes.read(kind, at, `${this.path}.${name}`);
  }

  private indirect(slot: number, name: string): number {
    const at = this.fieldPosition(slot);
    if (at === 0) return 0;
    return followOffset(this.bytes, at, `${this.path}.${name}`);
  }

  string(slot: number, name: string): string | undefined {
    const at = this.indirect(slot, name);
    if (at === 0) return undefined;
    const path = `${this.path}.${name}`;
    const length = this.bytes.read('uint32', at, path);
    this.bytes.check(at + 4, length + 1, path);
    // FlatBuffers' verifier (TFLite refuses the file at load: 'not a valid Flatbuffer buffer') wants the byte after a string's
    // last one to be 0; a string whose length or bytes were overwritten rarely keeps it.
    if (this.bytes.bytes[at + 4 + length] !== 0) this.bytes.fail(path, `the string of ${length} bytes at offset ${at} has no terminating 0 byte`, `byte ${this.bytes.bytes[at + 4 + length]} after it`);
    try {
      return UTF8.decode(this.bytes.bytes.subarray(at + 4, at + 4 + length));
    } catch {
      return this.bytes.fail(path, `the string of ${length} bytes at offset ${at} is not UTF-8`, describeBytes(this.bytes.bytes.subarray(at + 4, at + 4 + Math.min(length, 24))));
    }
  }

  table(slot: number, name: string): TableReader | undefined {
    const at = this.indirect(slot, name);
    return at === 0 ? undefined : new TableReader(this.bytes, at, `${this.path}.${name}`);
  }

  /**
   * `maxLength` refuses a longer vector before any of it is read (a sparse file may hold the bytes
   * a huge length claims, and reading them is what a hostile length is for).
   */
  vector(slot: number, elementSize: number, name: string, maxLength?: number): VectorRange | undefined {
    const at = this.indirect(slot, name);
    if (at === 0) return undefined;
    const path = `${this.path}.${name}`;
    const length = this.bytes.read('uint32', at, path);
    if (maxLength !== undefined && length > maxLength) this.bytes.fail(path, `${length} entries are more than the ${maxLength} allowed`, String(length));
    if (length * elementSize > this.bytes.length - (at + 4)) {
      this.bytes.windowCheck(at + 4 + length * elementSize);
      this.bytes.fail(path, `vector length ${length} runs past the end of the flatbuffer`, `${length} elements of ${elementSize} bytes`);
    }
    return { start: at + 4, length };
  }

  /**
   * A vector of bytes that may lie past the window (a buffer's inline data): its range in the file,
   * checked against the file, without reading it.
   */
  dataVector(slot: number, name: string): VectorRange | undefined {
    const at = this.indirect(slot, name);
    if (at === 0) return undefined;
    const path = `${this.path}.${name}`;
    const length = this.bytes.readFileUint32(at, path);
    if (at + 4 + length > this.bytes.extent) this.bytes.fail(path, `vector length ${length} runs past the end of the file`, `${length} bytes`);
    return { start: at + 4, length };
  }

  numbers(slot: number, kind: ScalarKind, name: string, maxLength?: number): number[] {
    const range = this.vector(slot, SIZES[kind], name, maxLength);
    if (!range) return [];
    const out = new Array<number>(range.length);
    const size = SIZES[kind];
    for (let i = 0; i < range.length; i++) out[i] = this.bytes.read(kind, range.start + i * size, `${this.path}.${name}[${i}]`);
    return out;
  }

  tables(slot: number, name: string): TableReader[] {
    const range = this.vector(slot, 4, name);
    if (!range) return [];
    const out: TableReader[] = [];
    for (let i = 0; i < range.length; i++) {
      const path = `${this.path}.${name}[${i}]`;
      out.push(new TableReader(this.bytes, followOffset(this.bytes, range.start + i * 4, path), path));
    }
    return out;
  }

  /** Union field at `slot` (its type byte is at `slot - 1`): the member's type and table. */
  union(slot: number, name: string): { type: number; table: TableReader | undefined } {
    const type = this.scalar(slot - 1, 'uint8', 0, `${name}_type`);
    return { type, table: type === 0 ? undefined : this.table(slot, name) };
  }
}
