/**
 * Writing a zip file the way PyTorch does: every entry with a data descriptor (the CRC is computed
 * while the bytes stream out, so a tensor is never loaded whole), stored entries aligned to 64
 * bytes with an `FB` padding extra field (torch reads tensors in place), ZIP64 records when sizes,
 * offsets or the entry count need them. The file is written atomically.
 */
import { crc32, deflateRawSync } from 'node:zlib';
import { writeFileAtomicWith, type AtomicFileOutput, type Tensor } from '@modelpass/ir';
import { checkZipEntryName } from './zip-entry-name.js';

export interface ZipWriteEntry {
  name: string;
  /** The entry's bytes; a tensor is streamed in chunks. */
  data: Uint8Array | Tensor;
  /** Deflate it (default: stored). */
  deflate?: boolean;
  /** Align a stored entry's first byte to this many bytes (default 64). */
  alignment?: number;
}

/** An entry already deflated elsewhere (copied between archives without inflating it). */
export interface ZipRawEntry {
  name: string;
  raw: { method: 0 | 8; bytes: Uint8Array; size: number; crc32: number };
}

const U32_MAX = 0xffffffff;

interface Written {
  name: Buffer;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  offset: number;
}

/** Writes `entries` in order as a zip file at `path` (whole or not at all). */
export function writeZip(path: string, entries: Iterable<ZipWriteEntry | ZipRawEntry>): void {
  writeFileAtomicWith(path, (out) => {
    const written: Written[] = [];
    for (const entry of entries) {
      checkZipEntryName(entry.name, path);
      written.push('raw' in entry ? writeRawEntry(out, entry) : writeEntry(out, entry));
    }
    writeCentralDirectory(out, written);
  });
}

/** `padding` undefined: no `FB` field; a number (0 included): an `FB` field with that many pad bytes. */
function localHeader(name: Buffer, method: number, padding: number | undefined, zip64: boolean): Buffer {
  const extraLength = (padding !== undefined ? 4 + padding : 0) + (zip64 ? 20 : 0);
  const header = Buffer.alloc(30 + name.length + extraLength);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(zip64 ? 45 : 20, 4);
  header.writeUInt16LE(0x0008 | 0x0800, 6); // data descriptor follows; UTF-8 names
  header.writeUInt16LE(method, 8);
  header.writeUInt16LE(0, 10); // time
  header.writeUInt16LE(0, 12); // date (torch writes zero too)
  // crc and sizes live in the data descriptor (and central directory)
  header.writeUInt32LE(zip64 ? U32_MAX : 0, 18);
  header.writeUInt32LE(zip64 ? U32_MAX : 0, 22);
  header.writeUInt16LE(name.length, 26);
  header.writeUInt16LE(extraLength, 28);
  name.copy(header, 30);
  let at = 30 + name.length;
  if (zip64) {
    header.writeUInt16LE(0x0001, at);
    header.writeUInt16LE(16, at + 2);
    at += 20; // zero sizes: the descriptor has them
  }
  if (padding !== undefined) {
    header.writeUInt16LE(0x4246, at); // 'FB'
    header.writeUInt16LE(padding, at + 2);
    header.fill(0x5a, at + 4, at + 4 + padding); // 'Z', as torch pads
  }
  return header;
}

function paddingFor(offset: number, nameLength: number, zip64: boolean, alignment: number): number | undefined {
  if (alignment <= 1) return undefined;
  const start = offset + 30 + nameLength + (zip64 ? 20 : 0) + 4;
  return (alignment - (start % alignment)) % alignment;
}

function writeEntry(out: AtomicFileOutput, entry: ZipWriteEntry): Written {
  const name = Buffer.from(entry.name, 'utf8');
  const offset = out.bytesWritten;
  const size = entry.data instanceof Uint8Array ? entry.data.byteLength : entry.data.byteLength;
  if (entry.deflate) {
    const bytes = entry.data instanceof Uint8Array ? entry.data : entry.data.bytes();
    const deflated = deflateRawSync(bytes);
    return writeRawEntry(out, { name: entry.name, raw: { method: 8, bytes: deflated, size, crc32: crc32(bytes) >>> 0 } }, name);
  }
  const zip64 = size >= U32_MAX || offset >= U32_MAX;
  const padding = paddingFor(offset, name.length, zip64, entry.alignment ?? 64);
  out.write(localHeader(name, 0, padding, zip64));
  let crc = 0;
  if (entry.data instanceof Uint8Array) {
    crc = crc32(entry.data);
    out.write(entry.data);
  } else {
    for (const chunk of entry.data.byteChunks()) {
      crc = crc32(chunk, crc);
      out.write(chunk);
    }
  }
  writeDescriptor(out, crc >>> 0, size, size, zip64);
  return { name, method: 0, crc: crc >>> 0, compressedSize: size, size, offset };
}

function writeRawEntry(out: AtomicFileOutput, entry: ZipRawEntry, encoded?: Buffer): Written {
  const name = encoded ?? Buffer.from(entry.name, 'utf8');
  const offset = out.bytesWritten;
  const { method, bytes, size, crc32: crc } = entry.raw;
  const zip64 = size >= U32_MAX || bytes.byteLength >= U32_MAX || offset >= U32_MAX;
  const padding = method === 0 ? paddingFor(offset, name.length, zip64, 64) : undefined;
  out.write(localHeader(name, method, padding, zip64));
  out.write(bytes);
  writeDescriptor(out, crc, bytes.byteLength, size, zip64);
  return { name, method, crc, compressedSize: bytes.byteLength, size, offset };
}

function writeDescriptor(out: AtomicFileOutput, crc: number, compressedSize: number, size: number, zip64: boolean): void {
  const descriptor = Buffer.alloc(zip64 ? 24 : 16);
  descriptor.writeUInt32LE(0x08074b50, 0);
  descriptor.writeUInt32LE(crc, 4);
  if (zip64) {
    descriptor.writeBigUInt64LE(BigInt(compressedSize), 8);
    descriptor.writeBigUInt64LE(BigInt(size), 16);
  } else {
    descriptor.writeUInt32LE(compressedSize, 8);
    descriptor.writeUInt32LE(size, 12);
  }
  out.write(descriptor);
}

function writeCentralDirectory(out: AtomicFileOutput, entries: Written[]): void {
  const cdOffset = out.bytesWritten;
  for (const e of entries) {
    const big = [e.size >= U32_MAX, e.compressedSize >= U32_MAX, e.offset >= U32_MAX];
    const zip64Fields = big.filter(Boolean).length;
    const extraLength = zip64Fields > 0 ? 4 + 8 * zip64Fields : 0;
    const record = Buffer.alloc(46 + e.name.length + extraLength);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(zip64Fields > 0 ? 45 : 20, 4);
    record.writeUInt16LE(zip64Fields > 0 ? 45 : 20, 6);
    record.writeUInt16LE(0x0008 | 0x0800, 8);
    record.writeUInt16LE(e.method, 10);
    record.writeUInt32LE(e.crc, 16);
    record.writeUInt32LE(big[1] ? U32_MAX : e.compressedSize, 20);
    record.writeUInt32LE(big[0] ? U32_MAX : e.size, 24);
    record.writeUInt16LE(e.name.length, 28);
    record.writeUInt16LE(extraLength, 30);
    record.writeUInt32LE(big[2] ? U32_MAX : e.offset, 42);
    e.name.copy(record, 46);
    if (zip64Fields > 0) {
      let at = 46 + e.name.length;
      record.writeUInt16LE(0x0001, at);
      record.writeUInt16LE(8 * zip64Fields, at + 2);
      at += 4;
      for (const [i, value] of [e.size, e.compressedSize, e.offset].entries()) {
        if (!big[i]) continue;
        record.writeBigUInt64LE(BigInt(value), at);
        at += 8;
      }
    }
    out.write(record);
  }
  const cdSize = out.bytesWritten - cdOffset;
  const zip64 = entries.length >= 0xffff || cdOffset >= U32_MAX || cdSize >= U32_MAX;
  if (zip64) {
    const zip64At = out.bytesWritten;
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(entries.length), 24);
    record.writeBigUInt64LE(BigInt(entries.length), 32);
    record.writeBigUInt64LE(BigInt(cdSize), 40);
    record.writeBigUInt64LE(BigInt(cdOffset), 48);
    out.write(record);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(zip64At), 8);
    locator.writeUInt32LE(1, 16);
    out.write(locator);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(zip64 ? 0xffff : entries.length, 8);
  eocd.writeUInt16LE(zip64 ? 0xffff : entries.length, 10);
  eocd.writeUInt32LE(zip64 ? U32_MAX : cdSize, 12);
  eocd.writeUInt32LE(zip64 ? U32_MAX : cdOffset, 16);
  out.write(eocd);
}
