/**
 * The bytes of a `.mpir` file as text: UTF-8 without NUL bytes. A binary file named `.mpir` (an ONNX model saved
 * under the wrong extension, an image) is named for what it looks like, and text that is not UTF-8 is refused at
 * its first bad byte instead of being read with U+FFFD in place of its bytes (a name or a string that no longer
 * says what the file said).
 */
import { ModelpassError } from '../diagnostic.js';
import { describeFileSignature } from '../file-signature.js';

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The offset of the first byte that does not continue a well-formed UTF-8 sequence, or -1 when all of them do. */
function firstInvalidUtf8Byte(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i]!;
    if (lead < 0x80) {
      i += 1;
      continue;
    }
    // [length, lowest and highest second byte] by lead byte (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF).
    const form =
      lead >= 0xc2 && lead <= 0xdf ? [2, 0x80, 0xbf]
      : lead === 0xe0 ? [3, 0xa0, 0xbf]
      : lead === 0xed ? [3, 0x80, 0x9f]
      : lead >= 0xe1 && lead <= 0xef ? [3, 0x80, 0xbf]
      : lead === 0xf0 ? [4, 0x90, 0xbf]
      : lead === 0xf4 ? [4, 0x80, 0x8f]
      : lead >= 0xf1 && lead <= 0xf3 ? [4, 0x80, 0xbf]
      : undefined;
    if (form === undefined) return i;
    const [length, low, high] = form as [number, number, number];
    const second = bytes[i + 1];
    if (second === undefined || second < low || second > high) return i;
    for (let k = 2; k < length; k++) {
      const next = bytes[i + k];
      if (next === undefined || next < 0x80 || next > 0xbf) return i;
    }
    i += length;
  }
  return -1;
}

/** 1-based line and column (in characters) of byte `offset`, counting the valid text before it. */
function lineAndColumn(bytes: Uint8Array, offset: number): { line: number; column: number } {
  const before = STRICT_UTF8.decode(bytes.subarray(0, offset));
  const lineStart = before.lastIndexOf('\n') + 1;
  let line = 1;
  for (let i = 0; i < lineStart; i++) if (before.charCodeAt(i) === 10) line++;
  return { line, column: [...before.slice(lineStart)].length + 1 };
}

function notText(path: string, reason: string, extra: { hint?: string; line?: number; column?: number; actual?: string } = {}): ModelpassError {
  const { hint, line, column, actual } = extra;
  return new ModelpassError({
    reason: `cannot read '${path}' as textual IR (.mpir): ${reason}`,
    location: { file: path, ...(line !== undefined ? { line } : {}), ...(column !== undefined ? { column } : {}) },
    expected: 'UTF-8 text written by printModel or `modelpass convert -o FILE.mpir`',
    ...(actual !== undefined ? { actual } : {}),
    ...(hint !== undefined ? { hint } : {}),
    source: '@modelpass/ir',
    code: 'read/not-text',
  });
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** The text of a `.mpir` file's bytes, or a ModelpassError naming `path` and what the bytes are instead. */
export function decodeModelText(bytes: Uint8Array, path: string): string {
  const head = bytes.subarray(0, 16);
  const looksLike = describeFileSignature(head, 'mpir');
  if (looksLike !== undefined) {
    throw notText(path, `it looks like ${looksLike}, not text`, {
      actual: `first bytes ${hex(bytes.subarray(0, 8))}`,
      hint: 'give the file the extension of its format (.onnx, .tflite, .pt) so the right reader opens it',
    });
  }
  const nul = bytes.indexOf(0);
  let text: string | undefined;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    text = undefined;
  }
  if (text !== undefined && nul === -1) return text;
  const bad = text === undefined ? Math.max(0, firstInvalidUtf8Byte(bytes)) : -1;
  const offset = nul === -1 ? bad : bad === -1 ? nul : Math.min(nul, bad);
  const what = offset === nul ? 'a NUL byte' : `byte 0x${bytes[offset]!.toString(16).padStart(2, '0')}, which is not UTF-8`;
  throw notText(path, `it is binary, not text: ${what} at byte ${offset}`, {
    ...lineAndColumn(bytes, offset),
    actual: `bytes ${hex(bytes.subarray(offset, offset + 8))}`,
  });
}
