/**
 * What the pickle reader says about two hostile records (QA s13): a zip archive stored where data.pkl
 * belongs (a .pt nested in a .pt) was 'text-mode PERSID is not supported', and a storage declaring 2^62
 * elements was 'a storage size must be a non-negative int'. Both now say what the record holds.
 * QA s17: a string whose length runs past the end said 'not valid UTF-8' instead of truncated.
 */
import { describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { readPickle } from '@modelpass/torchscript';

function refusal(run: () => unknown): ModelpassError {
  try {
    run();
  } catch (error) {
    expect(ModelpassError.is(error), String(error)).toBe(true);
    return error as ModelpassError;
  }
  throw new Error('expected a refusal');
}

const ascii = (text: string): number[] => [...Buffer.from(text, 'latin1')];
const unicode = (text: string): number[] => [0x58, ...new Uint8Array(Uint32Array.of(text.length).buffer), ...ascii(text)];

/** `('storage', torch.FloatStorage, '0', 'cpu', numel)` as a persistent id, numel a LONG1 of 8 bytes. */
function storagePickle(numel: bigint): Uint8Array {
  const long = Array.from({ length: 8 }, (_, i) => Number((numel >> BigInt(8 * i)) & 0xffn));
  return Uint8Array.from([0x80, 2, 0x28, ...unicode('storage'), 0x63, ...ascii('torch\nFloatStorage\n'), ...unicode('0'), ...unicode('cpu'), 0x8a, 8, ...long, 0x74, 0x51, 0x2e]);
}

describe('pickle reader messages', () => {
  it('says a record that is a zip archive is not a pickle', () => {
    const zip = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 0, 0]);
    expect(refusal(() => readPickle(zip, { source: 'inner/data.pkl' })).message).toMatch(/inner\/data\.pkl: pickle byte 0: this record is a zip archive \(nested inside the archive\), not a pickle/);
  });

  it('names a storage that declares more elements than any file holds, with the count', () => {
    expect(refusal(() => readPickle(storagePickle(2n ** 62n), { source: 'data.pkl' })).message).toMatch(/storage '0' declares 4611686018427387904 elements, more than any file holds/);
  });

  it('says a string whose declared length runs past the end is truncated, not invalid UTF-8 (QA s17)', () => {
    // BINUNICODE declaring 0xfffffff0 bytes, then 3: the length, not the text, is what is wrong
    const long = Uint8Array.from([0x80, 2, 0x58, 0xf0, 0xff, 0xff, 0xff, ...ascii('abc.')]);
    const message = refusal(() => readPickle(long, { source: 'data.pkl' })).message;
    expect(message).toMatch(/data\.pkl: pickle byte 2: the pickle ends in the middle of an opcode \(truncated\)/);
    expect(message).not.toContain('UTF-8');
    // a string that is there but not UTF-8 still says so
    const bad = Uint8Array.from([0x80, 2, 0x58, 2, 0, 0, 0, 0xc3, 0x28, 0x2e]);
    expect(refusal(() => readPickle(bad, { source: 'data.pkl' })).message).toMatch(/pickle byte 2: a string is not valid UTF-8/);
  });
});
