import { readFully } from './source-file.js';

/** A protobuf wire-format error found while scanning a file (turned into a ModelpassError by the caller). */
export class WireFormatError extends Error {}

const WINDOW = 64 << 10;

/**
 * Positioned reads of a file through a small window: bytes are fetched in 64 KiB chunks around the
 * place being scanned, so skipping a field (a weight) costs nothing but the seek.
 */
export class PositionedReader {
  private window: Buffer = Buffer.allocUnsafe(WINDOW);
  private windowStart = 0;
  private windowLength = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  private load(position: number): void {
    const length = Math.min(WINDOW, this.size - position);
    if (length <= 0) throw new WireFormatError(`unexpected end of file at offset ${position}`);
    if (!readFully(this.fd, this.window.subarray(0, length), position)) {
      throw new WireFormatError(`the file ended while reading offset ${position} (was it truncated while being read?)`);
    }
    this.windowStart = position;
    this.windowLength = length;
  }

  byteAt(position: number): number {
    if (position < this.windowStart || position >= this.windowStart + this.windowLength) this.load(position);
    return this.window[position - this.windowStart]!;
  }

  /**
   * A key or length varint at `position`: its low 32 bits as an unsigned number (what protobufjs'
   * `uint32()` and protobuf's own parsers take from a longer varint) and the offset after it.
   */
  varint(position: number, limit: number): { value: number; next: number } {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (position + i >= limit) throw new WireFormatError(`varint runs past the end of its message at offset ${position}`);
      const byte = this.byteAt(position + i);
      if (i < 5) value += (byte & 0x7f) * scale;
      scale *= 128;
      if ((byte & 0x80) === 0) return { value: value % 2 ** 32, next: position + i + 1 };
    }
    throw new WireFormatError(`varint at offset ${position} is longer than 10 bytes`);
  }

  /**
   * A length prefix at `position`, read as protobufjs' `size()` (what `decodeOnnx` uses) reads it:
   * at most 5 bytes, the fifth without a continuation bit and below 8, so the length is under 2^31.
   * A longer encoding (`80 80 80 80 80 01`) is an error there, so it is one here too — the lazy
   * reader must not accept a file the whole-file decoder refuses.
   */
  lengthPrefix(position: number, limit: number): { value: number; next: number } {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      if (position + i >= limit) throw new WireFormatError(`length prefix runs past the end of its message at offset ${position}`);
      const byte = this.byteAt(position + i);
      if (i === 4 && byte > 7) throw new WireFormatError(`invalid length encoding at offset ${position} (longer than 5 bytes or 2^31 and over)`);
      value += (byte & 0x7f) * scale;
      scale *= 128;
      if ((byte & 0x80) === 0) return { value, next: position + i + 1 };
    }
    throw new WireFormatError(`invalid length encoding at offset ${position}`);
  }

  /**
   * The offset after the varint at `position`, whatever its value: a varint field may hold any
   * 64-bit value (negative int64s take ten bytes), as protobufjs accepts when it decodes one.
   */
  skipVarint(position: number, limit: number): number {
    for (let i = 0; i < 10; i++) {
      if (position + i >= limit) throw new WireFormatError(`varint runs past the end of its message at offset ${position}`);
      if ((this.byteAt(position + i) & 0x80) === 0) return position + i + 1;
    }
    throw new WireFormatError(`varint at offset ${position} is longer than 10 bytes`);
  }

  /** Copies the bytes from `start` into `target` (all of it). */
  copyInto(target: Uint8Array, start: number): void {
    const end = start + target.byteLength;
    if (start >= this.windowStart && end <= this.windowStart + this.windowLength) {
      target.set(this.window.subarray(start - this.windowStart, end - this.windowStart));
      return;
    }
    if (!readFully(this.fd, target, start)) throw new WireFormatError(`the file ended while reading bytes ${start} to ${end}`);
  }
}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

export interface WireField {
  readonly field: number;
  readonly wireType: number;
  /** Offset of the field's key. */
  readonly start: number;
  /** For length-delimited fields: where the payload starts (after the length). */
  readonly payloadStart: number;
  /** Offset after the whole field. */
  readonly end: number;
}

/** Visits the fields of the message in [start, end) without reading any payload. */
export function forEachField(reader: PositionedReader, start: number, end: number, visit: (field: WireField) => void): void {
  let position = start;
  while (position < end) {
    const field = readField(reader, position, end);
    visit(field);
    position = field.end;
  }
}

function readField(reader: PositionedReader, start: number, limit: number): WireField {
  const key = reader.varint(start, limit);
  const field = Math.floor(key.value / 8);
  const wireType = key.value % 8;
  let payloadStart = key.next;
  let end: number;
  switch (wireType) {
    case WIRE_VARINT:
      end = reader.skipVarint(key.next, limit);
      break;
    case WIRE_FIXED64:
      end = key.next + 8;
      break;
    case WIRE_FIXED32:
      end = key.next + 4;
      break;
    case WIRE_LENGTH_DELIMITED: {
      const length = reader.lengthPrefix(key.next, limit);
      payloadStart = length.next;
      end = length.next + length.value;
      break;
    }
    case WIRE_START_GROUP:
      end = skipGroup(reader, key.next, limit, field);
      break;
    default:
      throw new WireFormatError(`invalid wire type ${wireType} at offset ${start}`);
  }
  if (end > limit) throw new WireFormatError(`field ${field} at offset ${start} runs past the end of its message (offset ${limit})`);
  return { field, wireType, start, payloadStart, end };
}

function skipGroup(reader: PositionedReader, start: number, limit: number, group: number): number {
  let position = start;
  while (position < limit) {
    const key = reader.varint(position, limit);
    if (key.value % 8 === WIRE_END_GROUP) {
      if (Math.floor(key.value / 8) !== group) throw new WireFormatError(`group ${group} ends with the wrong end-group tag at offset ${position}`);
      return key.next;
    }
    position = readField(reader, position, limit).end;
  }
  throw new WireFormatError(`group ${group} is not closed`);
}

/** Reads the given fields (tag and payload, in order) into one buffer: a message without the fields left out. */
export function gatherFields(reader: PositionedReader, fields: readonly WireField[]): Uint8Array {
  // Adjacent fields are read in one go.
  const runs: [number, number][] = [];
  for (const { start, end } of fields) {
    const last = runs.at(-1);
    if (last && last[1] === start) last[1] = end;
    else runs.push([start, end]);
  }
  let total = 0;
  for (const [start, end] of runs) total += end - start;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const [start, end] of runs) {
    reader.copyInto(out.subarray(offset, offset + end - start), start);
    offset += end - start;
  }
  return out;
}
