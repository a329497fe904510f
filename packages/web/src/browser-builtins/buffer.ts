/**
 * `node:buffer` in the browser page, and the global `Buffer` the core uses for byte comparisons,
 * hex/base64 text and write buffers: the npm `buffer` package (Node's Buffer API for browsers),
 * plus the size limits the core checks against.
 */
import { Buffer } from 'buffer';

export { Buffer };

export const constants = {
  /** Largest ArrayBuffer Chromium allocates (V8's limit on 64-bit hosts). */
  MAX_LENGTH: 2 ** 32,
  /** Largest string V8 builds (2^29 - 24 characters). */
  MAX_STRING_LENGTH: 2 ** 29 - 24,
};
