import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { ModelpassError } from './diagnostic.js';
import { describeFileKind } from './file-kind.js';
import { FileRangeStorage } from './tensor-storage.js';

/**
 * Files that lazy tensors read from (an .onnx or .tflite file itself, ONNX external data files),
 * shared by every reader of model files.
 *
 * A `SourceFile` remembers which file it was (device, inode, size, modification time) when the
 * model was read, and every read checks that it still reads that file, so a file replaced or
 * rewritten under a model gives a clear error instead of wrong bytes.
 *
 * While few files are open, a source keeps one descriptor open from the moment it is read until the
 * last tensor over it is garbage-collected: a file then replaced by a rename (what every model
 * writer does, even onto the very file the model came from) stays readable through the old inode.
 * Past `MAX_HELD_DESCRIPTORS` open at once (in the whole process), new sources open their file for
 * each read instead, so thousands of lazy files never mean thousands of descriptors; an atomic
 * write (`writeFileAtomicWith`) opens and keeps a descriptor for those before it replaces their
 * path (`holdSourcesBeforeReplacing`).
 *
 * Reads inside `batchSourceReads` (every `writeFileAtomicWith` output, the ONNX writer) share one
 * descriptor per file, checked at the batch's first read of it and again when the batch ends, instead
 * of an open (past the limit), a check and a close around every read.
 */
const MAX_HELD_DESCRIPTORS = 64;

interface Identity {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

/** The part of a source the finalizer needs (it must not reference the source itself). */
interface Handle {
  fd: number | undefined;
  readonly path: string;
  ref: WeakRef<SourceFile> | undefined;
}

let heldDescriptors = 0;
const liveSourcesByPath = new Map<string, Set<WeakRef<SourceFile>>>();

const finalizer = new FinalizationRegistry<Handle>((handle) => {
  releaseDescriptor(handle);
  const set = liveSourcesByPath.get(handle.path);
  if (set && handle.ref) {
    set.delete(handle.ref);
    if (set.size === 0) liveSourcesByPath.delete(handle.path);
  }
});

function releaseDescriptor(handle: Handle): void {
  if (handle.fd === undefined) return;
  try {
    closeSync(handle.fd);
  } catch {
    // Already closed by the process teardown; nothing to release.
  }
  handle.fd = undefined;
  heldDescriptors--;
}

function identityOf(stats: Stats): Identity {
  return { dev: stats.dev, ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs };
}

function sameIdentity(a: Identity, b: Identity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** Most bytes one `readSync` call is asked for (its length argument is a 32-bit integer). */
const MAX_READ_CALL = 1 << 30;

/** Reads `target.byteLength` bytes at `position` (any size, in calls of at most 1 GiB); false when the file ends first. */
export function readFully(fd: number, target: Uint8Array, position: number): boolean {
  let done = 0;
  while (done < target.byteLength) {
    const n = readSync(fd, target, done, Math.min(MAX_READ_CALL, target.byteLength - done), position + done);
    if (n === 0) return false;
    done += n;
  }
  return true;
}

/** Read-only and non-blocking: opening a FIFO put where a file was must not hang (regular files ignore the flag). */
const READ_NONBLOCKING = constants.O_RDONLY | constants.O_NONBLOCK;

/** What a file system entry is, in words (`describeFileKind`), when it is not a regular file. */
export function nonRegularKind(stats: Stats): string | undefined {
  return stats.isFile() ? undefined : describeFileKind(stats);
}

/** The error a source throws for anything but a regular file (callers word it for their context). */
export class NotRegularFileError extends Error {
  constructor(
    readonly path: string,
    readonly kind: string,
  ) {
    super(`'${path}' is ${kind}, not a regular file`);
  }
}

/**
 * Opens a regular file for reading, refusing named pipes, devices, sockets and directories before
 * anything could block on them: the path is checked with stat, opened non-blocking (so a FIFO that
 * appears in between cannot hang the open) and checked again on the descriptor.
 */
export function openRegularFile(path: string): { fd: number; stats: Stats } {
  const before = nonRegularKind(statSync(path));
  if (before) throw new NotRegularFileError(path, before);
  const fd = openSync(path, READ_NONBLOCKING);
  try {
    const stats = fstatSync(fd);
    const kind = nonRegularKind(stats);
    if (kind) throw new NotRegularFileError(path, kind);
    return { fd, stats };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

export interface SourceFileOptions {
  /** Keep the descriptor whatever the process-wide limit, until `retain` or `close` (a reader still parsing the file needs it). */
  readonly keepDescriptor?: boolean;
  /** The package named as the source of read errors (`'@modelpass/onnx'`, `'@modelpass/tflite'`). */
  readonly diagnosticSource?: string;
}

export class SourceFile {
  readonly path: string;
  readonly size: number;
  private readonly identity: Identity;
  private readonly handle: Handle;
  private readonly diagnosticSource: string;

  /**
   * Opens `path` (throws the fs error, or NotRegularFileError, as is: callers word it for their
   * context). The descriptor is kept while the process holds few, or always with `keepDescriptor`
   * (`retain` applies the limit afterwards).
   */
  constructor(path: string, options: SourceFileOptions = {}) {
    this.path = resolve(path);
    this.diagnosticSource = options.diagnosticSource ?? '@modelpass/ir';
    const { fd, stats } = openRegularFile(this.path);
    this.identity = identityOf(stats);
    this.size = stats.size;
    heldDescriptors++;
    this.handle = { fd, path: this.path, ref: undefined };
    finalizer.register(this, this.handle);
    if (!options.keepDescriptor && heldDescriptors > MAX_HELD_DESCRIPTORS) releaseDescriptor(this.handle);
  }

  /** The descriptor opened with the source, while it is held. */
  get descriptor(): number | undefined {
    return this.handle.fd;
  }

  /**
   * Called once lazy tensors point at this source: keep the descriptor if the process holds few,
   * else close it (reads will open the file each time), and list the source for
   * `holdSourcesBeforeReplacing`.
   */
  retain(): void {
    if (this.handle.ref) return;
    this.handle.ref = new WeakRef(this);
    let set = liveSourcesByPath.get(this.path);
    if (!set) liveSourcesByPath.set(this.path, (set = new Set()));
    set.add(this.handle.ref);
    if (heldDescriptors > MAX_HELD_DESCRIPTORS) releaseDescriptor(this.handle);
  }

  /** Closes the descriptor now (no tensor reads from this source). */
  close(): void {
    releaseDescriptor(this.handle);
  }

  /** Opens and keeps a descriptor (whatever the limit), if the path still holds the same file. */
  hold(): void {
    if (this.handle.fd !== undefined) return;
    let fd: number;
    try {
      fd = openSync(this.path, READ_NONBLOCKING);
    } catch {
      return; // Gone already: reads will report it.
    }
    if (!sameIdentity(identityOf(fstatSync(fd)), this.identity)) {
      closeSync(fd);
      return;
    }
    this.handle.fd = fd;
    heldDescriptors++;
  }

  /** True when `stats` (of a path or descriptor) is the file this source was opened on. */
  isSameFile(stats: Stats): boolean {
    return stats.dev === this.identity.dev && stats.ino === this.identity.ino;
  }

  /**
   * Fills `target` from the file at `position`, after checking that the file is unchanged: on every
   * read, or inside `batchSourceReads` once at the batch's first read of this file and again when the
   * batch ends.
   */
  readInto(target: Uint8Array, position: number): void {
    const batched = activeBatch?.descriptorFor(this, this.handle);
    if (batched !== undefined) {
      if (!readFully(batched, target, position)) {
        // A file cut short during the batch (rewritten in place) is a changed file, not one that was short when read.
        this.checkUnchanged(fstatSync(batched));
        throw this.endsEarly(target, position);
      }
      return;
    }
    const held = this.handle.fd;
    const fd = held ?? this.openForReading();
    try {
      this.checkUnchanged(fstatSync(fd));
      if (!readFully(fd, target, position)) {
        this.checkUnchanged(fstatSync(fd));
        throw this.endsEarly(target, position);
      }
    } finally {
      if (held === undefined) closeSync(fd);
    }
  }

  /** A new descriptor of the path (the file's identity not yet checked). */
  private openForReading(): number {
    try {
      return openSync(this.path, READ_NONBLOCKING);
    } catch (cause) {
      throw this.error(`cannot read tensor data: '${this.path}' is missing or unreadable`, undefined, cause);
    }
  }

  /**
   * @internal For `batchSourceReads`: a descriptor of this file checked to be the file the model was
   * read from — the held one, or one opened now (`owned`: the batch closes it).
   */
  _openChecked(): { fd: number; owned: boolean } {
    const held = this.handle.fd;
    const fd = held ?? this.openForReading();
    if (held !== undefined) {
      this.checkUnchanged(fstatSync(fd));
      return { fd, owned: false };
    }
    try {
      this.checkUnchanged(fstatSync(fd));
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    heldDescriptors++;
    return { fd, owned: true };
  }

  /**
   * @internal For `batchSourceReads`, when it ends: the check the next read would make — the held
   * descriptor's file, or (none held) the file now at the path — is still the file the model was read from.
   */
  _checkStillSame(): void {
    const held = this.handle.fd;
    let stats: Stats;
    try {
      stats = held !== undefined ? fstatSync(held) : statSync(this.path);
    } catch (cause) {
      throw this.error(`cannot read tensor data: '${this.path}' is missing or unreadable`, undefined, cause);
    }
    this.checkUnchanged(stats);
  }

  private checkUnchanged(stats: Stats): void {
    if (!sameIdentity(identityOf(stats), this.identity)) {
      throw this.error(`cannot read tensor data: '${this.path}' was changed after the model was read`, 'read the model again, or keep the source file unchanged while the model is in use');
    }
  }

  private endsEarly(target: Uint8Array, position: number): ModelpassError {
    return this.error(`tensor data ends early in '${this.path}' (reading ${target.byteLength} bytes at byte ${position})`);
  }

  /** `byteLength` bytes from `offset`, as storage for a lazy tensor. */
  range(offset: number, byteLength: number): SourceRangeStorage {
    return new SourceRangeStorage(this, offset, byteLength);
  }

  private error(reason: string, hint?: string, cause?: unknown): ModelpassError {
    return new ModelpassError({ reason, location: { file: this.path }, source: this.diagnosticSource, ...(hint ? { hint } : {}), ...(cause !== undefined ? { cause } : {}) });
  }
}

/** Descriptors a batch opens at most; sources past it are read as outside a batch (opened per read). */
const MAX_BATCH_DESCRIPTORS = 64;

/** The sources read in one `batchSourceReads` and the descriptor each reads through. */
class ReadBatch {
  private readonly entries = new Map<SourceFile, { fd: number; owned: boolean }>();
  private owned = 0;

  /**
   * The descriptor to read `source` through, checked at its first read in the batch; undefined when
   * the batch holds its limit of descriptors (the read then goes as outside a batch).
   */
  descriptorFor(source: SourceFile, handle: Handle): number | undefined {
    const entry = this.entries.get(source);
    // A borrowed held descriptor is only used while the source still holds it (closed, its number could name another file).
    if (entry && (entry.owned || handle.fd === entry.fd)) return entry.fd;
    if (handle.fd === undefined && this.owned >= MAX_BATCH_DESCRIPTORS) return undefined;
    const opened = source._openChecked();
    this.entries.set(source, opened);
    if (opened.owned) this.owned++;
    return opened.fd;
  }

  /** Checks every source read in the batch (when `check`), then closes the descriptors it opened; the first failed check is thrown after. */
  end(check: boolean): void {
    let failure: unknown;
    for (const [source, entry] of this.entries) {
      if (check && failure === undefined) {
        try {
          source._checkStillSame();
        } catch (error) {
          failure = error;
        }
      }
      if (entry.owned) this.close(entry.fd);
    }
    this.entries.clear();
    this.owned = 0;
    if (failure !== undefined) throw failure;
  }

  private close(fd: number): void {
    try {
      closeSync(fd);
    } catch {
      // Already closed; nothing to release.
    }
    heldDescriptors--;
  }
}

let activeBatch: ReadBatch | undefined;

/**
 * Runs `work` with the tensor reads of every `SourceFile` batched: a file is opened (or its held
 * descriptor used) and checked to be the file the model was read from at its first read in the
 * batch, read through that one descriptor until the batch ends, and checked again when it ends — a
 * file changed or replaced in between makes the batch throw the same error a read would, after
 * `work` (a writer that batches its output's production throws before renaming it into place).
 * Descriptors the batch opened are closed when it ends, also when `work` throws. A call inside a
 * batch joins it; only the synchronous part of `work` is batched (reads after an `await` in it are
 * checked one by one, as outside a batch).
 */
export function batchSourceReads<T>(work: () => T): T {
  if (activeBatch) return work();
  const batch = (activeBatch = new ReadBatch());
  let result: T;
  try {
    result = work();
  } catch (error) {
    activeBatch = undefined;
    batch.end(false);
    throw error;
  }
  activeBatch = undefined;
  batch.end(true);
  return result;
}

/** Descriptors that sources hold or batches have open, in the whole process (for tests that count them). */
export function sourceDescriptorsOpen(): number {
  return heldDescriptors;
}

/**
 * Before a model file is renamed onto `path`: every live source of that path that does not hold a
 * descriptor opens one, so its tensors keep reading the file they were read from.
 */
export function holdSourcesBeforeReplacing(path: string): void {
  const set = liveSourcesByPath.get(resolve(path));
  if (!set) return;
  for (const ref of set) ref.deref()?.hold();
}

/** A byte range of a source file: a `FileRangeStorage` whose reads go through the source. */
export class SourceRangeStorage extends FileRangeStorage {
  constructor(
    readonly source: SourceFile,
    offset: number,
    byteLength: number,
  ) {
    super(source.path, offset, byteLength);
  }

  override read(): Uint8Array {
    const bytes = new Uint8Array(this.byteLength);
    this.source.readInto(bytes, this.offset);
    return bytes;
  }

  /** Fills `target` with the bytes from `start` (relative to the range). */
  override readChunk(target: Uint8Array, start: number): void {
    if (start < 0 || start + target.byteLength > this.byteLength) throw new RangeError(`chunk [${start}, ${start + target.byteLength}) is outside ${this.describe()}`);
    this.source.readInto(target, this.offset + start);
  }
}
