/**
 * Hostile inputs built byte by byte: pickles that call `os.system` / `builtins.exec`, zips with
 * escaping names, zip bombs (a deflate stream of repeated sync-flushed blocks of zeros, so GiBs
 * of output cost a few MB and no time to make).
 */
import { crc32, constants as zlibConstants, deflateRawSync } from 'node:zlib';
import { writeZip, type ZipRawEntry, type ZipWriteEntry } from '@modelpass/torchscript';

/** A protocol-2 pickle calling `module.name(arg)` via GLOBAL + REDUCE, as `pickle.dumps` writes it. */
export function reducePickle(module: string, name: string, arg: string): Uint8Array {
  const argBytes = Buffer.from(arg, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(argBytes.length);
  return Buffer.concat([
    Buffer.from([0x80, 0x02]),
    Buffer.from(`c${module}\n${name}\n`, 'latin1'),
    Buffer.from([0x58]), length, argBytes, // BINUNICODE arg
    Buffer.from([0x85, 0x52, 0x2e]), // TUPLE1 REDUCE STOP
  ]);
}

/** The same call through STACK_GLOBAL (protocol 4 style). */
export function stackGlobalPickle(module: string, name: string, arg: string): Uint8Array {
  const str = (s: string): Buffer => Buffer.concat([Buffer.from([0x8c, Buffer.byteLength(s)]), Buffer.from(s)]);
  return Buffer.concat([Buffer.from([0x80, 0x04]), str(module), str(name), Buffer.from([0x93]), str(arg), Buffer.from([0x85, 0x52, 0x2e])]);
}

/** A minimal archive around `dataPkl` (prefix `evil`, version 3, an empty constants tuple). */
export function writeArchiveWith(path: string, dataPkl: Uint8Array, extra: Array<ZipWriteEntry | ZipRawEntry> = []): void {
  writeZip(path, [
    { name: 'evil/data.pkl', data: dataPkl },
    { name: 'evil/constants.pkl', data: Uint8Array.from([0x80, 0x02, 0x29, 0x2e]) },
    { name: 'evil/version', data: Buffer.from('3\n') },
    ...extra,
  ]);
}

/** Raw deflate data inflating to `mebibytes` MiB of zeros, built from one compressed MiB repeated. */
export function zeroBomb(mebibytes: number): { bytes: Uint8Array; size: number; crc32: number } {
  const mib = Buffer.alloc(1 << 20);
  // a sync flush ends the block byte-aligned and not final, so copies can follow each other
  const block = deflateRawSync(mib, { level: 9, finishFlush: zlibConstants.Z_SYNC_FLUSH });
  const end = Buffer.from([0x03, 0x00]); // a final, empty fixed-Huffman block
  const parts: Buffer[] = [];
  let crc = 0;
  for (let i = 0; i < mebibytes; i++) {
    parts.push(block);
    crc = crc32(mib, crc);
  }
  parts.push(end);
  return { bytes: Buffer.concat(parts), size: mebibytes * (1 << 20), crc32: crc >>> 0 };
}
