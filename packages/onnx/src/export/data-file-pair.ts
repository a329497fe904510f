import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, rmSync } from 'node:fs';
import { extname, join } from 'node:path';
import { holdSourcesBeforeReplacing } from '../import/source-file.js';

/**
 * The model file and its external data file form a pair that must change together. A rename can
 * replace only one file at a time, so a new data file never takes the name of the data file the
 * old model reads: it goes under a name no file has yet, the new model (which names it) replaces
 * the old model in one rename, and only then are the old data files removed. A process killed at
 * any point leaves the old pair or the new pair, each complete.
 *
 * Names: `<data file>` when no file has that name, else `<stem>-<8 hex><ext>` (the stem and
 * extension of the data file name: `model.onnx-1a2b3c4d.data`, `weights-1a2b3c4d.bin`).
 */
export function freshDataFileName(folder: string, dataName: string): string {
  if (!existsSync(join(folder, dataName))) return dataName;
  const { stem, ext } = splitName(dataName);
  for (;;) {
    const candidate = `${stem}-${randomBytes(4).toString('hex')}${ext}`;
    if (!existsSync(join(folder, candidate))) return candidate;
  }
}

function splitName(name: string): { stem: string; ext: string } {
  const ext = extname(name);
  return { stem: ext ? name.slice(0, -ext.length) : name, ext };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Removes the data files of earlier writes of this model (`dataName` and its `-<8 hex>`
 * variants) except `keep`, once the new model file is in place. Lazy tensors still reading one of
 * them first take a descriptor to it, so they keep reading the bytes they were read from.
 */
export function removeStaleDataFiles(folder: string, dataName: string, keep: string | undefined): void {
  const { stem, ext } = splitName(dataName);
  const variant = new RegExp(`^${escapeRegExp(stem)}-[0-9a-f]{8}${escapeRegExp(ext)}$`);
  let removed = false;
  for (const name of readdirSync(folder)) {
    if (name === keep || (name !== dataName && !variant.test(name))) continue;
    const path = join(folder, name);
    holdSourcesBeforeReplacing(path);
    rmSync(path, { force: true });
    removed = true;
  }
  if (removed) fsyncFolder(folder);
}

/** True when a process with this id runs (or exists under another user). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temporary files (`.<name>.<pid>.<id>.tmp`, the ir's registry names, or the older
 * `.<name>.tmp-<pid>-<id>`) of the model and its data files that writers
 * killed before they could clean up left behind: those whose process no longer exists.
 */
export function removeAbandonedTemporaries(folder: string, modelName: string, dataName: string): void {
  const { stem, ext } = splitName(dataName);
  const owned = `(?:${escapeRegExp(modelName)}|${escapeRegExp(dataName)}|${escapeRegExp(stem)}-[0-9a-f]{8}${escapeRegExp(ext)})`;
  const temporary = new RegExp(`^\\.${owned}\\.(?:tmp-(\\d+)-[0-9a-z]+|(\\d+)\\.[0-9a-z-]+\\.tmp)$`);
  for (const name of readdirSync(folder)) {
    const match = temporary.exec(name);
    const pid = match ? Number(match[1] ?? match[2]) : undefined;
    if (pid !== undefined && pid !== process.pid && !processExists(pid)) rmSync(join(folder, name), { force: true });
  }
}

/** Makes the renames and removals in `folder` durable (a no-op where folders cannot be opened). */
export function fsyncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms and file systems do not fsync folders; the renames are still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
