/**
 * printModel / parseModel called from JavaScript with the wrong argument: a clear error instead of
 * `text.charCodeAt is not a function` or `Cannot read properties of undefined (reading 'size')`.
 */
import { ModelpassError } from '../diagnostic.js';

function describeArgument(value: unknown): string {
  if (value instanceof Uint8Array) return `a ${value.constructor.name} of ${value.byteLength} bytes`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  return `a ${typeof value}`;
}

export function checkParseModelText(text: unknown): void {
  if (typeof text === 'string') return;
  throw new ModelpassError({
    reason: `parseModel takes the .mpir text (a string), not ${describeArgument(text)}`,
    source: '@modelpass/ir',
    code: 'mpir/bad-argument',
    hint: text instanceof Uint8Array ? "decode the bytes first (new TextDecoder().decode(bytes)), or read the file with readModelText(path)" : 'read a file with readModelText(path)',
  });
}

export function checkModelToPrint(model: unknown, fn: string): void {
  const candidate = model as { graph?: unknown; opsetImports?: unknown } | null | undefined;
  if (typeof candidate === 'object' && candidate !== null && typeof candidate.graph === 'object' && candidate.graph !== null && candidate.opsetImports instanceof Map) return;
  throw new ModelpassError({
    reason: `${fn} takes a Model, not ${describeArgument(model)}`,
    source: '@modelpass/ir',
    code: 'mpir/bad-argument',
    ...(typeof model === 'string' ? { hint: 'read the model first (readOnnx, readTflite, readTorchScript or parseModel)' } : {}),
  });
}
