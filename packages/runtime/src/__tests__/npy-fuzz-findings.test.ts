// Regression tests for the fuzzer's npy findings (tools/fuzz/findings/npy): encode → decode →
// encode must give the same bytes, and a header must never be written that decodeNpy refuses.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ModelpassError, Tensor } from '@modelpass/ir';
import { decodeNpy, encodeNpy, writeNpy } from '@modelpass/runtime';
import { python, temporaryDir } from './helpers.js';

const findings = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../tools/fuzz/findings/npy');

function caught(action: () => unknown): ModelpassError {
  try {
    action();
  } catch (error) {
    expect(ModelpassError.is(error), String(error)).toBe(true);
    return error as ModelpassError;
  }
  throw new Error('expected a ModelpassError');
}

describe('string elements with inner NULs', () => {
  it('keeps an inner NUL of an S4 element (only trailing NULs are padding) and round-trips', () => {
    const saved = readFileSync(join(findings, 'string-with-inner-nul-S4.npy'));
    const tensor = decodeNpy(saved);
    expect(tensor.strings).toEqual(['a\0b']);
    const encoded = encodeNpy(tensor);
    expect(decodeNpy(encoded).strings).toEqual(['a\0b']);
    expect(Buffer.from(encodeNpy(decodeNpy(encoded))).equals(Buffer.from(encoded))).toBe(true);
  });

  it('agrees with numpy on inner and trailing NULs in U and S arrays', () => {
    const dir = temporaryDir('npy-nul');
    writeNpy(Tensor.fromStrings([3], ['a\0b', '\0x', 'end\0\0z']), join(dir, 'ours.npy'));
    const out = python(
      `import sys, numpy as np
a = np.load(sys.argv[1] + '/ours.npy')
print(a.dtype.str, [list(map(ord, s)) for s in a.tolist()])
np.save(sys.argv[1] + '/theirs.npy', np.array([b'p\\x00q\\x00', b'\\x00r'], dtype='S4'))`,
      [dir],
    ).trim();
    expect(out).toBe('<U6 [[97, 0, 98], [0, 120], [101, 110, 100, 0, 0, 122]]');
    expect(decodeNpy(readFileSync(join(dir, 'theirs.npy'))).strings).toEqual(['p\0q', '\0r']);
  });

  it('refuses to write a lone surrogate (it has no UTF-32 code point)', () => {
    expect(caught(() => encodeNpy(Tensor.fromStrings([1], ['a\ud800']))).reason).toContain('lone UTF-16 surrogate 0xd800');
  });
});

describe('shape entries', () => {
  it('refuses a dimension beyond safe integers even beside a zero dimension (the saved finding)', () => {
    const error = caught(() => decodeNpy(readFileSync(join(findings, 'shape-dim-1e23-beside-a-zero-dim.npy')), 'dim.npy'));
    expect(error.reason).toBe("shape entry '99999999999999999999999' is beyond the largest supported dimension in NumPy file");
  });

  it('writes integer dimensions, refuses ones it cannot write, and round-trips zero-size arrays', () => {
    for (const shape of [[0], [0, 0, 7], [3, 0], [0, 2 ** 40]]) {
      const tensor = Tensor.fromValues('float32', shape, []);
      const encoded = encodeNpy(tensor);
      const header = Buffer.from(encoded.subarray(10, 10 + 118)).toString('latin1');
      expect(header).not.toMatch(/e\+/);
      const decoded = decodeNpy(encoded);
      expect(decoded.shape).toEqual(shape);
      expect(Buffer.from(encodeNpy(decoded)).equals(Buffer.from(encoded))).toBe(true);
    }
    const zeroStrings = encodeNpy(Tensor.fromStrings([0, 5], []));
    expect(decodeNpy(zeroStrings).shape).toEqual([0, 5]);
    const huge = { dtype: 'float32', shape: [0, 1e23], bytes: () => new Uint8Array(0) } as unknown as Tensor;
    expect(caught(() => encodeNpy(huge)).reason).toBe('cannot write a tensor of shape [0, 1e+23] as .npy: dimension 1 is not a non-negative integer up to 9007199254740991');
  });
});
