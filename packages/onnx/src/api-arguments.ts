/**
 * The arguments of readOnnx / decodeOnnx / writeOnnx / encodeOnnx as a stranger may get them wrong:
 * a path where the Model belongs, no output path, a misspelled option (`externaldata`), an option
 * value of the wrong kind. Each is a ModelpassError naming the function and the option, instead of
 * Node's `The "paths[0]" argument must be of type string` or a silently ignored option.
 */
import { Model } from '@modelpass/ir';
import { onnxError } from './errors.js';
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

/** `a number`, `an object (Object)`, `a Uint8Array of 3 bytes`, `undefined`. */
export function describeArgument(value: unknown): string {
  if (value instanceof Uint8Array) return `a ${value.constructor.name} of ${value.byteLength} bytes`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  return `a ${typeof value}`;
}

/** A Model (of this or another copy of `@modelpass/ir`: the writer only reads its fields). */
export function checkModelArgument(model: unknown, fn: 'writeOnnx' | 'encodeOnnx'): void {
  if (model instanceof Model) return;
  const candidate = model as { graph?: unknown; opsetImports?: unknown } | null | undefined;
  if (typeof candidate === 'object' && candidate !== null && typeof candidate.graph === 'object' && candidate.opsetImports instanceof Map) return;
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

/** Edit distance ≤ 2 or the same letters in another case: the option meant. */
function closeOption(typed: string, known: readonly string[]): string | undefined {
  const lower = typed.toLowerCase();
  const same = known.find((name) => name.toLowerCase() === lower);
  if (same !== undefined) return same;
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(lower, name.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 64 || b.length > 64) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/** The options object: undefined or an object whose keys are the function's options. */
export function checkOptionKeys(options: unknown, fn: ApiFunction): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw onnxError({ reason: `${fn}: the options must be an object, not ${describeArgument(options)}`, code: 'onnx/bad-option' });
  }
  const known = ONNX_OPTION_KEYS[fn];
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const suggestion = closeOption(key, known);
    throw onnxError({
      reason: `${fn}: unknown option '${key}'${suggestion !== undefined ? ` — did you mean '${suggestion}'?` : ''}`,
      expected: `one of ${known.join(', ')}`,
      code: 'onnx/bad-option',
    });
  }
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
