import { Builder } from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { createAsciiString } from './flat-vectors.js';

/** The finished bytes of a builder that wrote `texts` (with a 1-byte and a 4-byte field between them, to move the alignment). */
function built(texts: readonly string[], write: (b: Builder, text: string) => number): Uint8Array {
  const b = new Builder(16);
  const offsets: number[] = [];
  for (const text of texts) {
    b.addInt8(7);
    offsets.push(write(b, text));
    b.addInt32(0x01020304);
  }
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
  b.finish(b.endVector());
  return b.asUint8Array().slice();
}

describe('createAsciiString', () => {
  const texts = ['', 'x', 'conv1_filter_g12', 'a'.repeat(37), '/blocks/0/attn/MatMul_output_0', 'ünïcode', '名前', 'tab\there', 'z'.repeat(300)];

  it('writes the same bytes as the builder’s createString, growing the builder when needed', () => {
    expect(built(texts, createAsciiString)).toEqual(built(texts, (b, text) => b.createString(text)));
  });

  it('falls back to createString for text beyond ASCII', () => {
    expect(built(['é'], createAsciiString)).toEqual(built(['é'], (b, text) => b.createString(text)));
    expect(built(['é'], createAsciiString)).not.toEqual(built(['e'], createAsciiString));
  });
});
