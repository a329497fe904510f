import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Model, ModelpassError } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx, readOnnx } from '@modelpass/onnx';
import { readTflite } from '@modelpass/tflite';
import type { ModelSource } from './engine.js';
import { messageOf, runtimeError } from './errors.js';

/** A short description of where a model came from, for diagnostics. */
export function describeModelSource(source: ModelSource): string {
  if (typeof source === 'string') return source;
  if (source instanceof Uint8Array) return `<${source.byteLength} bytes of ONNX>`;
  return source.sourcePath ?? '<in-memory model>';
}

/** The file a model came from, when any. */
export function modelSourceFile(source: ModelSource): string | undefined {
  if (typeof source === 'string') return source;
  if (source instanceof Model) return source.sourcePath;
  return undefined;
}

/**
 * A reader for a model file format this package does not depend on (e.g. TorchScript archives,
 * whose reader depends on this package): registered by the application (the CLI registers its
 * formats), tried by `loadModel` before ONNX.
 */
export interface ModelFileReader {
  readonly name: string;
  matches(path: string): boolean;
  read(path: string): Model;
}

const modelFileReaders: ModelFileReader[] = [];

/** Registers (or replaces, by name) a reader `loadModel` uses for the paths it matches. */
export function registerModelReader(reader: ModelFileReader): void {
  const at = modelFileReaders.findIndex((r) => r.name === reader.name);
  if (at >= 0) modelFileReaders[at] = reader;
  else modelFileReaders.push(reader);
}

/** The IR model for a source: read and decoded through `@modelpass/onnx` (`@modelpass/tflite` for a `.tflite` file, a registered reader for its paths) when it is a file or bytes. */
export function loadModel(source: ModelSource): Model {
  if (source instanceof Model) return source;
  const registered = typeof source === 'string' ? modelFileReaders.find((r) => r.matches(source)) : undefined;
  if (registered && typeof source === 'string') return registered.read(source);
  if (typeof source === 'string') return isTflitePath(source) ? readTflite(source) : readOnnx(source);
  return decodeOnnx(source);
}

/** A path the TFLite reader and engine take (by extension, as the CLI tells formats). */
export function isTflitePath(path: string): boolean {
  return path.toLowerCase().endsWith('.tflite');
}

/** ONNX bytes for an in-memory model (encoded through `@modelpass/onnx`). */
export function modelBytes(model: Model): Uint8Array {
  try {
    return encodeOnnx(model);
  } catch (error) {
    if (ModelpassError.is(error)) throw error;
    throw runtimeError({
      reason: `cannot encode model ${describeModelSource(model)} as ONNX: ${messageOf(error)}`,
      cause: error,
    });
  }
}

export function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A cache key for a model file that changes when the file does. */
export function fileKey(path: string): string {
  const absolute = resolve(path);
  let stat;
  try {
    stat = statSync(absolute);
  } catch (cause) {
    throw runtimeError({ reason: `model file '${path}' does not exist or cannot be read`, location: { file: path }, cause });
  }
  if (!stat.isFile()) throw runtimeError({ reason: `model path '${path}' is not a file`, location: { file: path } });
  return `file:${absolute}:${stat.mtimeMs}:${stat.size}`;
}
