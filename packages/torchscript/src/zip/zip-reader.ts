/**
 * Reading a zip file the way PyTorch writes one (stored and deflated entries, data descriptors,
 * ZIP64, an `FB` padding extra field). Only the central directory is trusted for sizes; every
 * offset is checked against the file, every name against path tricks, sizes and ratios against
 * limits before anything is inflated, and inflating stops at the declared size (a zip bomb that
 * lies about its size is cut off while inflating, not after).
 */
import { readSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { crc32, inflateRawSync } from 'node:zlib';
import { ComputedStorage, describeFileSignature, describeStatFailure, NotRegularFileError, SourceFile, type ModelpassError, type TensorStorage } from '@modelpass/ir';
import { checkRegularFile } from './regular-file.js';
import { messageOf, TORCHSCRIPT_ERROR_SOURCE, torchscriptError } from '../errors.js';
import { checkZipEntryName } from './zip-entry-name.js';
import { DEFAULT_ZIP_LIMITS, type ZipLimits } from './zip-limits.js';

/** '<archive folder>/extra/<anything>', with a plain archive folder: where torch.jit.save writes `_extra_files`. */
function isExtraRecordName(name: string): boolean {
  const slash = name.indexOf('/');
  if (slash <= 0 || !name.startsWith('/extra/', slash) || name.length === slash + '/extra/'.length) return false;
  try {
    checkZipEntryName(name.slice(0, slash), '');
    return true;
  } catch {
    return false;
  }
}

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly method: 0 | 8;
  readonly compressedSize: number;
  readonly size: number;
  readonly crc32: number;
  readonly localHeaderOffset: number;
  /** Where the entry's (stored or deflated) bytes start in the file. */
  readonly dataOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
/** Deflated entries smaller than this are never refused for their ratio (tiny files compress well). */
const RATIO_FLOOR_BYTES = 1 << 20;

export class ZipFile {
  readonly entries: readonly ZipEntry[];
  private readonly byName = new Map<string, ZipEntry>();

  private constructor(
    readonly path: string,
    readonly fileSize: number,
    entries: ZipEntry[],
    /** The archive as it was opened: every later read checks it is still the same file. */
    private readonly source: SourceFile,
  ) {
    this.entries = entries;
    for (const e of entries) this.byName.set(e.name, e);
  }

  /** Opens and checks `path` (a regular file) and its central directory. */
  static open(path: string, limits: ZipLimits = {}): ZipFile {
    checkRegularFile(path, 'TorchScript archive');
    let source: SourceFile;
    try {
      source = new SourceFile(path, { keepDescriptor: true, diagnosticSource: TORCHSCRIPT_ERROR_SOURCE });
    } catch (cause) {
      const reason = cause instanceof NotRegularFileError ? `it is ${cause.kind}, not a regular file` : describeStatFailure(cause);
      throw torchscriptError({ reason: `cannot read TorchScript archive '${path}': ${reason}`, location: { file: path }, cause });
    }
    let opened = false;
    try {
      const entries = readCentralDirectory(new FileReader(source.descriptor!, source.size, path), { ...DEFAULT_ZIP_LIMITS, ...stripUndefined(limits) });
      opened = true;
      return new ZipFile(path, source.size, entries, source);
    } finally {
      if (opened) source.retain(); // lazy tensors read through it; the process-wide descriptor limit applies from here
      else source.close();
    }
  }

  entry(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /** The entry's bytes, inflated if deflated, CRC checked. */
  read(entry: ZipEntry): Uint8Array {
    if (entry.size > bufferConstants.MAX_LENGTH || entry.compressedSize > bufferConstants.MAX_LENGTH) {
      throw this.error(`zip entry '${entry.name}' is ${entry.size} bytes, too large to read whole`);
    }
    const raw = new Uint8Array(entry.compressedSize);
    this.source.readInto(raw, entry.dataOffset); // offsets were checked against the file with the directory
    let data = raw;
    if (entry.method === 8) {
      try {
        // maxOutputLength stops inflating as soon as the output passes the declared size.
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
      } catch (cause) {
        const tooLarge = (cause as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || cause instanceof RangeError;
        throw this.error(
          tooLarge
            ? `zip entry '${entry.name}' inflates to more than its declared ${entry.size} bytes (stopped while inflating)`
            : `zip entry '${entry.name}' is not valid deflate data: ${messageOf(cause)}`,
        );
      }
    }
    if (data.byteLength !== entry.size) {
      throw this.error(`zip entry '${entry.name}' holds ${data.byteLength} bytes, its directory says ${entry.size}`);
    }
    if ((crc32(data) >>> 0) !== entry.crc32) {
      throw this.error(`zip entry '${entry.name}' fails its CRC-32 check (the file is damaged)`);
    }
    return data;
  }

  /** A lazy view of a stored entry's bytes (tensors are stored uncompressed). */
  storage(entry: ZipEntry): TensorStorage {
    if (entry.method !== 0) return new ComputedStorage(entry.size, () => this.read(entry), `zip entry ${entry.name} (deflated)`);
    return this.source.range(entry.dataOffset, entry.size);
  }

  private error(reason: string): ModelpassError {
    return torchscriptError({ reason, location: { file: this.path }, code: 'torchscript/zip' });
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

class FileReader {
  constructor(
    private readonly fd: number,
    readonly size: number,
    readonly path: string,
  ) {}

  bytes(offset: number, length: number, what: string): Buffer {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw torchscriptError({
        reason: `${what} at bytes [${offset}, ${offset + length}) lies past the end of the file (truncated or damaged)`,
        location: { file: this.path },
        expected: `a file of at least ${offset + length} bytes`,
        actual: `${this.size} bytes`,
        code: 'torchscript/zip',
      });
    }
    const out = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    if (done !== length) throw torchscriptError({ reason: `${what}: the file ended early`, location: { file: this.path }, code: 'torchscript/zip' });
    return out;
  }
}

function zipError(path: string, reason: string, extra: { expected?: string; actual?: string; hint?: string } = {}): ModelpassError {
  return torchscriptError({ reason, location: { file: path }, code: 'torchscript/zip', ...extra });
}

function u64(view: Buffer, at: number, path: string): number {
  const value = view.readBigUInt64LE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw zipError(path, `a ZIP64 size or offset (${value}) is too large`);
  return Number(value);
}

function readCentralDirectory(file: FileReader, limits: Required<ZipLimits>): ZipEntry[] {
  const { path } = file;
  const tailLength = Math.min(file.size, 22 + 0xffff);
  if (file.size < 22) {
    throw zipError(path, 'not a zip archive: the file is too short to hold an end-of-central-directory record (truncated?)', {
      actual: `${file.size} bytes`,
    });
  }
  const tailStart = file.size - tailLength;
  const tail = file.bytes(tailStart, tailLength, 'end of central directory');
  let eocd = -1;
  for (let i = tailLength - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === SIG_EOCD && i + 22 + tail.readUInt16LE(i + 20) <= tailLength) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    const foreign = describeFileSignature(file.bytes(0, Math.min(file.size, 16), 'file head'), 'torchscript');
    if (foreign) {
      throw zipError(path, `not a TorchScript archive: the data looks like ${foreign}`, {
        expected: 'a zip archive written by torch.jit.save or torch.save',
        hint: 'give the file the extension of its format (or name the format with --from)',
      });
    }
    throw zipError(path, 'not a zip archive, or a truncated one: no end-of-central-directory record', {
      hint: 'a TorchScript archive is a zip file written by torch.jit.save or torch.save',
    });
  }
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (tail.readUInt16LE(eocd + 4) !== 0 || tail.readUInt16LE(eocd + 6) !== 0) throw zipError(path, 'multi-disk zip archives are not supported');
  const needsZip64 = count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff;
  const locatorAt = tailStart + eocd - 20;
  if (locatorAt >= 0) {
    const locator = file.bytes(locatorAt, 20, 'ZIP64 locator');
    if (locator.readUInt32LE(0) === SIG_ZIP64_LOCATOR) {
      const zip64At = u64(locator, 8, path);
      const record = file.bytes(zip64At, 56, 'ZIP64 end of central directory');
      if (record.readUInt32LE(0) !== SIG_ZIP64_EOCD) throw zipError(path, 'the ZIP64 locator points at no ZIP64 end-of-central-directory record');
      count = u64(record, 32, path);
      cdSize = u64(record, 40, path);
      cdOffset = u64(record, 48, path);
    } else if (needsZip64) {
      throw zipError(path, 'the end-of-central-directory record asks for ZIP64 but there is no ZIP64 locator');
    }
  }
  if (count > limits.maxEntries) {
    throw zipError(path, `the archive has ${count} entries, more than the limit`, { expected: `at most ${limits.maxEntries}`, actual: String(count) });
  }
  if (cdSize > bufferConstants.MAX_LENGTH) throw zipError(path, `the central directory (${cdSize} bytes) is too large`);
  const cd = file.bytes(cdOffset, cdSize, 'central directory');
  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  let total = 0;
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > cd.length || cd.readUInt32LE(at) !== SIG_CENTRAL) throw zipError(path, `central directory entry ${i} is damaged (bad signature or truncated)`);
    const flags = cd.readUInt16LE(at + 8);
    const method = cd.readUInt16LE(at + 10);
    const crc = cd.readUInt32LE(at + 16);
    let compressedSize = cd.readUInt32LE(at + 20);
    let size = cd.readUInt32LE(at + 24);
    const nameLength = cd.readUInt16LE(at + 28);
    const extraLength = cd.readUInt16LE(at + 30);
    const commentLength = cd.readUInt16LE(at + 32);
    let localOffset = cd.readUInt32LE(at + 42);
    const end = at + 46 + nameLength + extraLength + commentLength;
    if (end > cd.length) throw zipError(path, `central directory entry ${i} runs past the directory's end`);
    const name = cd.toString('utf8', at + 46, at + 46 + nameLength);
    // torch.jit.save stores an extra file under the name it was given (`_extra_files={'../notes.txt': …}` is
    // '<archive>/extra/../notes.txt') and torch.jit.load reads it back: nothing here uses a record's name as a
    // path, and an extra record only becomes a metadata entry, so such a name does not refuse the archive.
    if (!isExtraRecordName(name)) checkZipEntryName(name, path);
    if (seen.has(name)) throw zipError(path, `zip entry '${name}' appears twice`);
    seen.add(name);
    if (flags & 1) throw zipError(path, `zip entry '${name}' is encrypted`);
    // Unix file type in the external attributes (host 3): a symbolic link's bytes are its target's
    // name, never the record torch wrote; refuse it by name rather than read a path as tensor data.
    if (cd.readUInt8(at + 5) === 3 && ((cd.readUInt32LE(at + 38) >>> 16) & 0o170000) === 0o120000) {
      throw zipError(path, `zip entry '${name}' is a symbolic link`, { expected: 'regular files only (torch.jit.save and torch.save write nothing else)' });
    }
    if (method !== 0 && method !== 8) {
      throw zipError(path, `zip entry '${name}' uses compression method ${method}`, { expected: '0 (stored) or 8 (deflated)' });
    }
    // ZIP64 extended information: the fields that overflowed, in this order.
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = cd.readUInt16LE(extra);
      const length = cd.readUInt16LE(extra + 2);
      if (extra + 4 + length > extraEnd) throw zipError(path, `zip entry '${name}' has a damaged extra field`);
      if (id === 0x0001) {
        let field = extra + 4;
        const take = (): number => {
          if (field + 8 > extra + 4 + length) throw zipError(path, `zip entry '${name}' has a short ZIP64 extra field`);
          const value = u64(cd, field, path);
          field += 8;
          return value;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localOffset === 0xffffffff) localOffset = take();
      }
      extra += 4 + length;
    }
    if (size > limits.maxEntryBytes) {
      throw zipError(path, `zip entry '${name}' declares ${size} bytes, more than the limit`, { expected: `at most ${limits.maxEntryBytes} bytes` });
    }
    if (method === 0 && size !== compressedSize) throw zipError(path, `stored zip entry '${name}' has different stored (${compressedSize}) and declared (${size}) sizes`);
    if (method === 8 && size > RATIO_FLOOR_BYTES && size > compressedSize * limits.maxCompressionRatio) {
      throw zipError(path, `zip entry '${name}' inflates ${compressedSize} bytes to ${size} (a ratio over ${limits.maxCompressionRatio}: a zip bomb?)`, {
        expected: `a compression ratio of at most ${limits.maxCompressionRatio}`,
      });
    }
    total += size;
    if (total > limits.maxTotalBytes) {
      throw zipError(path, `the archive's entries hold more than ${limits.maxTotalBytes} bytes together`, { expected: `at most ${limits.maxTotalBytes} bytes` });
    }
    const local = file.bytes(localOffset, 30, `local header of '${name}'`);
    if (local.readUInt32LE(0) !== SIG_LOCAL) throw zipError(path, `the local header of zip entry '${name}' is missing or damaged`);
    // The local header must name the same entry: a directory entry pointing at another entry's header would read its bytes.
    const localName = local.readUInt16LE(26) === nameLength ? file.bytes(localOffset + 30, nameLength, `local header of '${name}'`) : undefined;
    if (!localName || !localName.equals(cd.subarray(at + 46, at + 46 + nameLength))) {
      throw zipError(path, `the local header of zip entry '${name}' names another entry (${JSON.stringify((localName ?? Buffer.alloc(0)).toString('utf8'))}): the directory and the file disagree (a damaged or forged archive)`, {
        expected: `the local header at byte ${localOffset} to name '${name}'`,
      });
    }
    const dataOffset = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (dataOffset + compressedSize > file.size) {
      throw zipError(path, `zip entry '${name}' lies past the end of the file (truncated)`, {
        expected: `a file of at least ${dataOffset + compressedSize} bytes`,
        actual: `${file.size} bytes`,
      });
    }
    entries.push({ name, method, compressedSize, size, crc32: crc, localHeaderOffset: localOffset, dataOffset });
    at = end;
  }
  // Stored tensor records are read lazily, without their CRC: no two entries may share bytes of the file.
  const byOffset = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  for (let i = 1; i < byOffset.length; i++) {
    const before = byOffset[i - 1]!;
    const next = byOffset[i]!;
    if (next.localHeaderOffset < before.dataOffset + before.compressedSize) {
      throw zipError(path, `zip entries '${before.name}' and '${next.name}' overlap in the file (bytes [${before.localHeaderOffset}, ${before.dataOffset + before.compressedSize}) and from ${next.localHeaderOffset}): a damaged or forged archive`, {
        expected: 'each entry in bytes of its own',
      });
    }
  }
  return entries;
}
