/**
 * The files a command reads and writes, checked before any work: an input must be a regular file
 * (a folder, FIFO or device is refused instead of read, which would fail with a bare EISDIR or wait
 * forever), an output must go into an existing folder this process may write (checked before a long
 * pipeline runs, not after), and a failed write says which output failed,
 * why, and that nothing partial was left.
 */
import { accessSync, constants as fsConstants, readdirSync, rmSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { ModelpassError, type Model } from '@modelpass/ir';
import { checkRegularFile, describeFileKind } from '@modelpass/runtime';
import type { CliIO } from './cli-io.js';
import { formatFor, type ModelFormat, type ModelWriteOptions } from './formats.js';

function cliError(reason: string, file: string, extra: { expected?: string; hint?: string; cause?: unknown } = {}): ModelpassError {
  return new ModelpassError({ reason, location: { file }, source: '@modelpass/cli', ...extra });
}

/** A model file named on the command line: resolved, checked to be a regular file, its format told. */
export function modelInput(argument: string, io: CliIO, explicitFormat: string | undefined): { path: string; format: ModelFormat } {
  const path = resolve(io.cwd, argument);
  checkRegularFile(path, 'model');
  return { path, format: formatFor(path, explicitFormat, 'input') };
}

/** Refuses an output whose folder is missing or not a folder, or which is itself a folder. */
export function checkOutputTarget(path: string, role = 'output', models: readonly string[] = []): void {
  const folder = dirname(path);
  let stats: Stats;
  try {
    stats = statSync(folder);
  } catch {
    throw cliError(`cannot write ${role} '${path}': its folder '${folder}' does not exist`, path, { hint: `create it first (mkdir -p '${folder}')` });
  }
  if (!stats.isDirectory()) throw cliError(`cannot write ${role} '${path}': '${folder}' is ${describeFileKind(stats)}, not a folder`, path);
  try {
    accessSync(folder, fsConstants.W_OK | fsConstants.X_OK);
  } catch (error) {
    const code = errnoOf(error) ?? 'EACCES';
    throw cliError(`cannot write ${role} '${path}': its folder '${folder}' is not writable: ${WRITE_FAILURES[code] ?? 'access refused'} (${code})`, path, {
      hint: 'choose a folder you can write',
    });
  }
  let target: Stats | undefined;
  try {
    target = statSync(path);
  } catch {
    target = undefined;
  }
  if (target?.isDirectory()) throw cliError(`cannot write ${role} '${path}': it is a folder`, path, { expected: 'a file name' });
  // Outputs are written to a temporary file renamed into place: over a device or a FIFO (`-o /dev/null` as root, QA s16
  // round 12) the rename would replace the special file itself with the output.
  if (target !== undefined && !target.isFile()) {
    throw cliError(`cannot write ${role} '${path}': it is ${describeFileKind(target)}, not a regular file (the ${role} is written to a temporary file and renamed into place, which would replace it)`, path, {
      expected: 'a regular file or a new file name',
    });
  }
  // A report or statistics file written over a model the command reads or writes would destroy it (QA s15 round 8:
  // `inspect m.onnx --report m.onnx` replaced the model with its report).
  for (const model of models) {
    if (sameFile(path, target, model)) {
      throw cliError(`cannot write ${role} '${path}': it is the model '${model}', which it would replace`, path, { hint: `give the ${role} another name` });
    }
  }
}

/** Whether `path` (whose stats are `stats`, when it exists) names the same file as `other`. */
function sameFile(path: string, stats: Stats | undefined, other: string): boolean {
  if (resolve(path) === resolve(other)) return true;
  if (!stats) return false;
  try {
    const otherStats = statSync(other);
    return otherStats.dev === stats.dev && otherStats.ino === stats.ino;
  } catch {
    return false;
  }
}

const WRITE_FAILURES: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EFBIG: 'the file would be larger than this system allows',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  EIO: 'an input/output error',
};

/** The first `code` (ENOSPC, ...) along an error's `cause` chain. */
function errnoOf(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  }
  return undefined;
}

/**
 * Removes temporary files a failed write of `path` by this process may have left beside it (the
 * writers name them `.<name>.…<pid>…`), and says whether the folder is clean again.
 */
function removeLeftovers(path: string): boolean {
  const folder = dirname(path);
  const prefix = `.${basename(path)}.`;
  const pid = String(process.pid);
  try {
    for (const name of readdirSync(folder)) {
      if (name.startsWith(prefix) && name.includes(pid)) rmSync(resolve(folder, name), { force: true });
    }
    return !readdirSync(folder).some((name) => name.startsWith(prefix) && name.includes(pid));
  } catch {
    return false;
  }
}

/** Writes the model; a failure names the output and the reason, and no partial file stays behind. */
export async function writeModelOutput(format: ModelFormat, model: Model, path: string, options?: ModelWriteOptions): Promise<void> {
  checkOutputTarget(path);
  try {
    await format.write(model, path, options);
  } catch (error) {
    const code = errnoOf(error);
    if (code === undefined) throw error;
    const clean = removeLeftovers(path);
    throw cliError(
      `cannot write '${path}': ${WRITE_FAILURES[code] ?? 'the write failed'} (${code}); ${clean ? 'no partial file was left' : 'a temporary file may be left in its folder'}`,
      path,
      { cause: error },
    );
  }
}
