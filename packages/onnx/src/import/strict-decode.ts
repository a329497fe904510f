import protobuf from 'protobufjs/minimal.js';

/**
 * Protobuf decoding that never changes data silently: `string` fields (names, op types, keys,
 * doc strings) must be valid UTF-8, as the protobuf spec requires, instead of having bad bytes
 * replaced by U+FFFD; and nesting deeper than the reader's limit is reported as such.
 */

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Thrown for a `string` field whose bytes are not UTF-8; callers turn it into a located ModelpassError. */
export class InvalidUtf8Error extends Error {
  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
  ) {
    super(`${what} is not valid UTF-8 (bytes ${hexPreview(bytes)})`);
  }
}

/** Thrown when messages nest deeper than the limit (protobufjs' recursion limit, set per decode). */
export class NestingTooDeepError extends Error {
  constructor(readonly limit: number) {
    super(`the protobuf data is nested deeper than ${limit} levels`);
  }
}

/** Up to 24 bytes in hex, for error messages. */
export function hexPreview(bytes: Uint8Array): string {
  const shown = [...bytes.subarray(0, 24)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return bytes.byteLength > 24 ? `${shown} …` : shown;
}

/** Decodes UTF-8 or throws `InvalidUtf8Error` naming `what`. */
export function strictUtf8(bytes: Uint8Array, what: string): string {
  try {
    return fatalUtf8.decode(bytes);
  } catch {
    throw new InvalidUtf8Error(bytes, what);
  }
}

/** A protobufjs reader whose `string()` refuses invalid UTF-8 (nested decodes share the reader). */
class StrictUtf8Reader extends protobuf.Reader {
  override string(): string {
    const start = this.pos;
    const bytes = this.bytes();
    return strictUtf8(bytes, `a text field at byte ${start} of the message`);
  }
}

interface Decodable<T> {
  decode(reader: protobuf.Reader | Uint8Array): T;
}

/**
 * Decodes `bytes` as `type` with the strict reader, nesting limited to `maxDepth` levels
 * (protobufjs' recursion limit, restored afterwards: decoding is synchronous). `depth` is the
 * nesting level of `type` inside the whole file (a graph decoded on its own is at level 1).
 */
export function decodeStrict<T>(type: Decodable<T>, bytes: Uint8Array, maxDepth: number, depth = 0): T {
  const saved = protobuf.Reader.recursionLimit;
  protobuf.Reader.recursionLimit = maxDepth - depth;
  protobuf.util.recursionLimit = maxDepth - depth;
  try {
    return type.decode(new StrictUtf8Reader(bytes));
  } catch (error) {
    if (error instanceof Error && error.message === 'max depth exceeded') throw new NestingTooDeepError(maxDepth);
    throw error;
  } finally {
    protobuf.Reader.recursionLimit = saved;
    protobuf.util.recursionLimit = saved;
  }
}
