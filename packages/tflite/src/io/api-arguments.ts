/**
 * The arguments of readTflite / writeTflite as a stranger may get them wrong: bytes or a number where
 * the path belongs, a path where the Model belongs, a misspelled option. Each is a ModelpassError
 * naming the function, instead of Node's `The "paths[0]" argument must be of type string` or a
 * TypeError from inside the writer.
 */
import { checkOptionNames, describeArgument, isModelLike } from '@modelpass/ir';
import { SOURCE, tfliteError } from './errors.js';
import type { ReadTfliteOptions } from '../reader/model-import.js';
import type { WriteTfliteOptions } from '../writer/model-export.js';

const READ_KEYS: Readonly<Record<keyof ReadTfliteOptions, true>> = { limits: true, initialReadBytes: true, onNote: true };
const WRITE_KEYS: Readonly<Record<keyof WriteTfliteOptions, true>> = { externalBuffersAbove: true };

export function checkReadTfliteArguments(path: unknown, options: unknown): void {
  if (typeof path !== 'string' || path === '') {
    throw tfliteError({ reason: `readTflite takes a file path (a non-empty string), not ${describeArgument(path)}`, code: 'tflite/bad-argument' });
  }
  checkOptionNames(options, { fn: 'readTflite', known: Object.keys(READ_KEYS), source: SOURCE, code: 'tflite/bad-option' });
}

export function checkWriteTfliteArguments(model: unknown, path: unknown, options: unknown): void {
  if (!isModelLike(model)) {
    throw tfliteError({
      reason: `writeTflite takes a Model as its first argument, not ${describeArgument(model)}`,
      code: 'tflite/bad-argument',
      ...(typeof model === 'string' ? { hint: 'read the file first (readTflite(path), or readOnnx + legalize-tflite), then write the Model: writeTflite(model, outputPath)' } : {}),
    });
  }
  if (typeof path !== 'string' || path === '') {
    throw tfliteError({ reason: `writeTflite takes the output file path (a non-empty string) as its second argument, not ${describeArgument(path)}`, code: 'tflite/bad-argument' });
  }
  checkOptionNames(options, { fn: 'writeTflite', known: Object.keys(WRITE_KEYS), source: SOURCE, code: 'tflite/bad-option' });
}
