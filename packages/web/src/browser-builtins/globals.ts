/**
 * Globals Node gives and the page does not: esbuild `inject`s this module, so a free `Buffer` or
 * `process` in the core resolves to these (see buffer.ts, process.ts).
 */
export { Buffer } from './buffer.js';
export { process } from './process.js';
