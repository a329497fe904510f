import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Location } from '@modelpass/ir';
import { onnxError } from '../errors.js';
import { NotRegularFileError, SourceFile, SourceRangeStorage, type SourceFiles } from './source-file.js';

export interface ExternalDataRef {
  readonly location: string;
  readonly offset: number;
  readonly length: number | undefined;
}

/** Reads the `location`/`offset`/`length` entries of a TensorProto's `external_data`. */
export function parseExternalData(
  entries: readonly { key?: string | null; value?: string | null }[],
  tensorName: string,
  where: Location,
): ExternalDataRef {
  let location: string | undefined;
  let offset = 0;
  let length: number | undefined;
  for (const entry of entries) {
    const value = entry.value ?? '';
    if (entry.key === 'location') location = value;
    else if (entry.key === 'offset' || entry.key === 'length') {
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
        throw onnxError({
          reason: `external data of tensor '${tensorName}' has an invalid ${entry.key}`,
          location: where,
          expected: 'a non-negative integer',
          actual: `'${value}'`,
        });
      }
      if (entry.key === 'offset') offset = Number(value);
      else length = Number(value);
    }
  }
  if (!location) {
    throw onnxError({ reason: `external data of tensor '${tensorName}' has no 'location'`, location: where });
  }
  return { location, offset, length };
}

/**
 * The absolute path of an external data file: relative to the model's folder and inside it.
 * Absolute paths and paths that climb out of the folder are rejected.
 */
export function resolveExternalPath(baseDir: string | undefined, location: string, tensorName: string, where: Location): string {
  if (baseDir === undefined) {
    throw onnxError({
      reason: `tensor '${tensorName}' keeps its data in external file '${location}', but the model's folder is unknown`,
      location: where,
      hint: 'read the model with readOnnx(path), or pass { baseDir } to decodeOnnx',
    });
  }
  const normalized = location.replace(/\\/g, '/');
  if (isAbsolute(normalized) || /^[a-zA-Z]:/.test(normalized) || normalized.split('/').includes('..')) {
    throw onnxError({
      reason: `external data path '${location}' of tensor '${tensorName}' is not inside the model's folder`,
      location: where,
      expected: 'a relative path without ".." segments',
      actual: `'${location}'`,
    });
  }
  const base = resolve(baseDir);
  const path = resolve(base, normalized);
  const rel = relative(base, path);
  if (rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) {
    throw onnxError({ reason: `external data path '${location}' of tensor '${tensorName}' escapes the model's folder`, location: where });
  }
  return path;
}

/**
 * Lazy storage for an external tensor, after checking that the file holds the byte range. The file
 * is opened through `sources` (one source per file and import) when given.
 */
export function externalStorage(
  baseDir: string | undefined,
  ref: ExternalDataRef,
  expectedBytes: number,
  tensorName: string,
  where: Location,
  sources: SourceFiles | undefined,
): SourceRangeStorage {
  const path = resolveExternalPath(baseDir, ref.location, tensorName, where);
  if (ref.length !== undefined && ref.length !== expectedBytes) {
    throw onnxError({
      reason: `external data of tensor '${tensorName}' has the wrong length`,
      location: where,
      expected: `${expectedBytes} bytes`,
      actual: `${ref.length} bytes`,
    });
  }
  let source: SourceFile;
  try {
    if (sources) source = sources.get(path);
    else {
      source = new SourceFile(path);
      source.retain();
    }
  } catch (cause) {
    if (cause instanceof NotRegularFileError) {
      throw onnxError({
        reason: `external data file '${ref.location}' of tensor '${tensorName}' is ${cause.kind}, not a regular file`,
        location: { ...where, file: path },
        expected: 'a regular file next to the model',
        cause,
      });
    }
    throw onnxError({
      reason: `external data file '${ref.location}' of tensor '${tensorName}' is missing or unreadable`,
      location: { ...where, file: path },
      hint: 'keep the data file next to the model file',
      cause,
    });
  }
  confineToModelFolder(baseDir!, path, source, ref.location, tensorName, where);
  const size = source.size;
  if (ref.offset + expectedBytes > size) {
    throw onnxError({
      reason: `external data of tensor '${tensorName}' lies past the end of '${ref.location}'`,
      location: { ...where, file: path },
      expected: `at least ${ref.offset + expectedBytes} bytes`,
      actual: `${size} bytes`,
    });
  }
  return new SourceRangeStorage(source, ref.offset, expectedBytes);
}

/**
 * Checks that the opened data file really lies inside the model's folder: the real path (every
 * symlinked component resolved) must stay under the folder's real path, and must be the very file
 * that was opened (so a symlink swapped in between cannot slip through). ONNX Runtime refuses the
 * same files ("escapes model directory").
 */
function confineToModelFolder(baseDir: string, path: string, source: SourceFile, location: string, tensorName: string, where: Location): void {
  let realBase: string;
  let realFile: string;
  try {
    realBase = realpathSync(resolve(baseDir));
    realFile = realpathSync(path);
  } catch (cause) {
    throw onnxError({
      reason: `external data file '${location}' of tensor '${tensorName}' cannot be resolved`,
      location: { ...where, file: path },
      cause,
    });
  }
  const rel = relative(realBase, realFile);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) {
    throw onnxError({
      reason: `external data path '${location}' of tensor '${tensorName}' escapes the model's folder through a symbolic link`,
      location: { ...where, file: path },
      expected: `a file whose real path is inside '${realBase}'`,
      actual: `'${realFile}'`,
      hint: 'copy the data file into the model folder instead of linking to it',
    });
  }
  if (!source.isSameFile(statSync(realFile))) {
    throw onnxError({
      reason: `external data file '${location}' of tensor '${tensorName}' changed while it was opened`,
      location: { ...where, file: path },
      hint: 'read the model again once its files are no longer being replaced',
    });
  }
}
