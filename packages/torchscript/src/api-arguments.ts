/**
 * The arguments of readTorchScript / writeTorchScript as a stranger may get them wrong: bytes where the
 * path belongs, a path where the Model belongs, a misspelled option (`input`, `classname`). Each is a
 * ModelpassError naming the function, instead of a TypeError from inside or an option ignored.
 */
import { checkOptionNames, describeArgument, isModelLike } from '@modelpass/ir';
import { TORCHSCRIPT_ERROR_SOURCE, torchscriptError } from './errors.js';
import type { ReadTorchScriptOptions } from './import/read-torchscript.js';
import type { WriteTorchScriptOptions } from './export/write-torchscript.js';

/** Each options interface's keys; the `Record<keyof …>` types make the compiler keep them complete. */
const READ_KEYS: Readonly<Record<keyof ReadTorchScriptOptions, true>> = { inputs: true, limits: true, opset: true, onNote: true };
const WRITE_KEYS: Readonly<Record<keyof WriteTorchScriptOptions, true>> = { className: true, prefix: true, allowFloat16WithoutCpuKernels: true };
const CODE = 'torchscript/bad-argument';

export function checkReadTorchScriptArguments(path: unknown, options: unknown): void {
  if (typeof path !== 'string' || path === '') {
    throw torchscriptError({ reason: `readTorchScript takes a file path (a non-empty string), not ${describeArgument(path)}`, code: CODE });
  }
  checkOptionNames(options, { fn: 'readTorchScript', known: Object.keys(READ_KEYS), source: TORCHSCRIPT_ERROR_SOURCE, code: 'torchscript/bad-option' });
}

export function checkWriteTorchScriptArguments(model: unknown, path: unknown, options: unknown): void {
  if (!isModelLike(model)) {
    throw torchscriptError({
      reason: `writeTorchScript takes a Model as its first argument, not ${describeArgument(model)}`,
      code: CODE,
      ...(typeof model === 'string' ? { hint: 'read the file first (readOnnx(path), readTflite(path) or readTorchScript(path)), then write the Model: writeTorchScript(model, outputPath)' } : {}),
    });
  }
  if (typeof path !== 'string' || path === '') {
    throw torchscriptError({ reason: `writeTorchScript takes the output file path (a non-empty string) as its second argument, not ${describeArgument(path)}`, code: CODE });
  }
  checkOptionNames(options, { fn: 'writeTorchScript', known: Object.keys(WRITE_KEYS), source: TORCHSCRIPT_ERROR_SOURCE, code: 'torchscript/bad-option' });
}
