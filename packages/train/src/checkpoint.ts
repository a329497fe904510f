/**
 * Training checkpoints: one file, `<dir>/train-state.mpck`, holding the step loop's whole state — the
 * carried tensors (weights, optimizer state, running statistics), the step and epoch, the early-stopping
 * record and a fingerprint of the settings a resumed run must share. Written atomically (a temporary
 * file in the same folder, fsync, rename), so an interrupted write leaves the previous checkpoint.
 *
 * Layout: `MPCKPT1\n`, a uint32 (little-endian) header length, the JSON header, then the tensors' raw
 * little-endian bytes at the offsets the header gives.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ModelpassError, Tensor, type DType } from '@modelpass/ir';
import { readRegularFile } from '@modelpass/runtime';

const MAGIC = 'MPCKPT1\n';
export const CHECKPOINT_FILE = 'train-state.mpck';

export interface Checkpoint {
  readonly step: number;
  /** Epochs completed. */
  readonly epoch: number;
  /** Settings a resumed run must match (seed, batch, optimizer, …), compared as JSON. */
  readonly fingerprint: Readonly<Record<string, unknown>>;
  /** Loop state beyond the tensors (early stopping, history), JSON. */
  readonly loop: Readonly<Record<string, unknown>>;
  readonly tensors: ReadonlyMap<string, Tensor>;
}

interface Header {
  readonly step: number;
  readonly epoch: number;
  readonly fingerprint: Record<string, unknown>;
  readonly loop: Record<string, unknown>;
  readonly tensors: { name: string; dtype: DType; shape: number[]; offset: number; length: number }[];
}

export function checkpointPath(dir: string): string {
  return join(dir, CHECKPOINT_FILE);
}

export function writeCheckpoint(dir: string, checkpoint: Checkpoint): string {
  mkdirSync(dir, { recursive: true });
  const tensors: Header['tensors'] = [];
  const payloads: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of checkpoint.tensors) {
    const bytes = tensor.bytes();
    tensors.push({ name, dtype: tensor.dtype, shape: [...tensor.shape], offset, length: bytes.byteLength });
    payloads.push(bytes);
    offset += bytes.byteLength;
  }
  const header: Header = { step: checkpoint.step, epoch: checkpoint.epoch, fingerprint: { ...checkpoint.fingerprint }, loop: { ...checkpoint.loop }, tensors };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBytes.byteLength);
  const target = checkpointPath(dir);
  const temporary = join(dir, `.${CHECKPOINT_FILE}.${process.pid}.tmp`);
  const fd = openSync(temporary, 'w');
  try {
    for (const part of [Buffer.from(MAGIC, 'latin1'), length, headerBytes, ...payloads]) writeSync(fd, part);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, target);
  return target;
}

function corrupt(file: string, what: string): ModelpassError {
  return new ModelpassError({ reason: `checkpoint '${file}' is damaged: ${what}`, location: { file }, hint: 'delete it to start over, or resume from another checkpoint folder', source: '@modelpass/train' });
}

/** The checkpoint in `dir`, or undefined when there is none. */
export function readCheckpoint(dir: string): Checkpoint | undefined {
  const file = checkpointPath(dir);
  if (!existsSync(file)) return undefined;
  const bytes = readRegularFile(file, 'checkpoint');
  if (bytes.byteLength < MAGIC.length + 4 || Buffer.from(bytes.subarray(0, MAGIC.length)).toString('latin1') !== MAGIC) throw corrupt(file, `it does not start with ${JSON.stringify(MAGIC)}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(MAGIC.length, true);
  const dataStart = MAGIC.length + 4 + headerLength;
  if (dataStart > bytes.byteLength) throw corrupt(file, `its header claims ${headerLength} bytes, the file has ${bytes.byteLength}`);
  let header: Header;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(MAGIC.length + 4, dataStart)).toString('utf8')) as Header;
  } catch {
    throw corrupt(file, 'its header is not JSON');
  }
  if (!Number.isInteger(header.step) || !Number.isInteger(header.epoch) || !Array.isArray(header.tensors)) throw corrupt(file, 'its header lacks step, epoch or tensors');
  const tensors = new Map<string, Tensor>();
  for (const entry of header.tensors) {
    const end = dataStart + entry.offset + entry.length;
    if (!(entry.offset >= 0 && entry.length >= 0 && end <= bytes.byteLength)) throw corrupt(file, `tensor '${entry.name}' lies outside the file`);
    try {
      tensors.set(entry.name, Tensor.fromBytes(entry.dtype, entry.shape, bytes.slice(dataStart + entry.offset, end)));
    } catch (cause) {
      throw corrupt(file, `tensor '${entry.name}': ${(cause as Error).message}`);
    }
  }
  return { step: header.step, epoch: header.epoch, fingerprint: header.fingerprint ?? {}, loop: header.loop ?? {}, tensors };
}
