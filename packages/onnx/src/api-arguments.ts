/**
 * The arguments of readOnnx / decodeOnnx / writeOnnx / encodeOnnx as a stranger may get them wrong:
 * a path where the Model belongs, no output path, a misspelled option (`externaldata`), an option
 * value of the wrong kind. Each is a ModelpassError naming the function and the option, instead of
 * Node's `The "paths[0]" argument must be of type string` or a silently ignored option.
 */
import { checkOptionNames, describeArgument, isModelLike } from '@modelpass/ir';
import { onnxError, SOURCE as ONNX_SOURCE } from './errors.js';
import type { EncodeOnnxOptions, WriteOnnxOptions } from './export/model-export.js';
import type { DecodeOnnxOptions, ReadOnnxOptions } from './import/model-import.js';

/** Each options interface's keys; the `Record<keyof …>` types make the compiler keep them complete. */
const ENCODE_KEYS: Readonly<Record<keyof EncodeOnnxOptions, true>> = { irVersion: true, valueInfo: true };
const WRITE_KEYS: Readonly<Record<keyof WriteOnnxOptions, true>> = {
  ...ENCODE_KEYS,
  externalData: true,
  externalDataThreshold: true,
  externalDataFile: true,
  onProgress: true,
};
const DECODE_KEYS: Readonly<Record<keyof DecodeOnnxOptions, true>> = { file: true, baseDir: true, limits: true };
const READ_KEYS: Readonly<Record<keyof ReadOnnxOptions, true>> = { baseDir: true, limits: true, lazyThreshold: true, onProgress: true };

export const ONNX_OPTION_KEYS = {
  encodeOnnx: Object.keys(ENCODE_KEYS),
  writeOnnx: Object.keys(WRITE_KEYS),
  decodeOnnx: Object.keys(DECODE_KEYS),
  readOnnx: Object.keys(READ_KEYS),
} as const;

type ApiFunction = keyof typeof ONNX_OPTION_KEYS;

/** A Model (of this or another copy of `@modelpass/ir`: the writer only reads its fields). */
export function checkModelArgument(model: unknown, fn: 'writeOnnx' | 'encodeOnnx'): void {
  if (isModelLike(model)) return;
  throw onnxError({
    reason: `${fn} takes a Model as its first argument, not ${describeArgument(model)}`,
    code: 'onnx/bad-argument',
    ...(typeof model === 'string' ? { hint: 'read the file first (readOnnx(path)), then write the Model: writeOnnx(model, outputPath)' } : {}),
  });
}

export function checkOutputPath(path: unknown): asserts path is string {
  if (typeof path === 'string' && path !== '') return;
  throw onnxError({
    reason: `writeOnnx takes the output file path (a non-empty string) as its second argument, not ${describeArgument(path)}`,
    code: 'onnx/bad-argument',
    ...(path instanceof Uint8Array || path === undefined ? { hint: "to get the model's bytes in memory, call encodeOnnx(model)" } : {}),
  });
}

/** The options object: undefined or an object whose keys are the function's options. */
export function checkOptionKeys(options: unknown, fn: ApiFunction): void {
  checkOptionNames(options, { fn, known: ONNX_OPTION_KEYS[fn], source: ONNX_SOURCE, code: 'onnx/bad-option' });
}

/** Values of the write options that would otherwise be silently taken as something else. */
export function checkWriteOptionValues(options: WriteOnnxOptions): void {
  const mode = options.externalData;
  if (mode !== undefined && mode !== 'auto' && mode !== 'always' && mode !== 'never') {
    throw onnxError({ reason: `writeOnnx: option 'externalData' must be 'auto', 'always' or 'never'`, actual: typeof mode === 'string' ? `'${mode}'` : describeArgument(mode), code: 'onnx/bad-option' });
  }
  const threshold = options.externalDataThreshold;
  if (threshold !== undefined && !(typeof threshold === 'number' && Number.isFinite(threshold) && threshold >= 0)) {
    throw onnxError({ reason: `writeOnnx: option 'externalDataThreshold' must be a number of bytes ≥ 0`, actual: describeArgument(threshold), code: 'onnx/bad-option' });
  }
  if (options.externalDataFile !== undefined && typeof options.externalDataFile !== 'string') {
    throw onnxError({ reason: `writeOnnx: option 'externalDataFile' must be a file name (a string)`, actual: describeArgument(options.externalDataFile), code: 'onnx/bad-option' });
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw onnxError({ reason: `writeOnnx: option 'onProgress' must be a function (done, total) => void`, actual: describeArgument(options.onProgress), code: 'onnx/bad-option' });
  }
}
