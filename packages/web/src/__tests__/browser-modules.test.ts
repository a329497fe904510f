// The page's stand-ins for Node built-ins (src/browser-builtins/, bundled only into the page) must
// behave exactly as Node's where the core relies on them: SHA-256 fingerprints decide which
// constants CSE merges, so a wrong digest would change the page's output.
import { createHash as nodeCreateHash } from 'node:crypto';
import * as nodePath from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { createHash } from '../browser-builtins/crypto.js';
import * as browserPath from '../browser-builtins/path.js';
import { readFileSync } from '../browser-builtins/fs.js';

describe('browser modules of the page', () => {
  it('computes the SHA-256 digests Node computes, over any chunking of strings and bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ unit: 'grapheme' }), fc.uint8Array({ maxLength: 300 })), { maxLength: 8 }), (chunks) => {
        const mine = createHash('sha256');
        const node = nodeCreateHash('sha256');
        for (const chunk of chunks) {
          mine.update(chunk);
          node.update(chunk);
        }
        expect(mine.digest('hex')).toBe(node.digest('hex'));
      }),
      { numRuns: 300 },
    );
    // Block boundaries: 55, 56, 63, 64 and 65 bytes pad differently.
    for (const length of [0, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const bytes = new Uint8Array(length).map((_, i) => (i * 31) & 255);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(nodeCreateHash('sha256').update(bytes).digest('hex'));
    }
  });

  it('does POSIX path arithmetic as node:path does', () => {
    const segment = fc.constantFrom('a', 'b', '..', '.', '', 'model.onnx', 'x.data');
    const path = fc.array(segment, { maxLength: 6 }).map((parts) => parts.join('/'));
    const absolute = path.map((p) => `/${p}`);
    fc.assert(
      fc.property(fc.oneof(path, absolute), fc.oneof(path, absolute), (a, b) => {
        expect(browserPath.join(a, b)).toBe(nodePath.posix.join(a, b));
        expect(browserPath.normalize(a)).toBe(nodePath.posix.normalize(a));
        expect(browserPath.dirname(a)).toBe(nodePath.posix.dirname(a));
        expect(browserPath.basename(a)).toBe(nodePath.posix.basename(a));
        expect(browserPath.extname(a)).toBe(nodePath.posix.extname(a));
        expect(browserPath.isAbsolute(a)).toBe(nodePath.posix.isAbsolute(a));
        // The page's working directory is '/'.
        expect(browserPath.resolve(a, b)).toBe(nodePath.posix.resolve('/', a, b));
        expect(browserPath.relative(`/${a}`, `/${b}`)).toBe(nodePath.posix.relative(`/${a}`, `/${b}`));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses file access with a ModelpassError naming the function', () => {
    expect(() => readFileSync('model.onnx.data')).toThrow(ModelpassError);
    expect(() => readFileSync('model.onnx.data')).toThrow(/fs\.readFileSync is not available in the browser page/);
  });
});
