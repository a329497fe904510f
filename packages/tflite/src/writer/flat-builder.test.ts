import { Builder } from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { FlatBuilder } from './flat-builder.js';

/** The calls both builders take, by the npm Builder's names. */
type Calls = (b: Builder) => number;

/** A mix of tables (shared and distinct vtables), vectors, strings and scalars of every width. */
const tables: Calls = (b) => {
  const names = ['conv', 'conv_1', 'größe', '', 'filter_g0'].map((s) => b.createString(s));
  const offsets: number[] = [];
  for (let i = 0; i < 12; i++) {
    b.startVector(4, 3, 4);
    for (let k = 2; k >= 0; k--) b.addInt32(i * 3 + k - 4);
    const shape = b.endVector();
    b.startObject(9);
    b.addFieldOffset(0, shape, 0);
    b.addFieldInt8(1, i % 3, 0);
    b.addFieldInt32(2, i, 0);
    b.addFieldOffset(3, names[i % names.length]!, 0);
    if (i % 4 === 1) b.addFieldInt64(4, BigInt(i) * 10_000_000_000n - 7n, 0n);
    if (i % 5 === 2) b.addFieldFloat32(5, i / 7, 0);
    if (i % 6 === 3) b.addFieldFloat64(6, -i / 3, 0);
    if (i % 2) b.addFieldInt16(7, -i, 0);
    b.addFieldInt8(8, 1, 0);
    offsets.push(b.endObject());
  }
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
  const vector = b.endVector();
  b.startVector(8, 2, 8);
  b.addInt64(-3n);
  b.addInt64(1n << 40n);
  const longs = b.endVector();
  b.startObject(3);
  b.addFieldOffset(0, vector, 0);
  b.addFieldOffset(2, longs, 0);
  return b.endObject();
};

function npmBytes(calls: Calls, identifier?: string): Uint8Array {
  const b = new Builder(16);
  b.finish(calls(b), identifier);
  return b.asUint8Array().slice();
}

function flatBytes(calls: Calls, identifier?: string): Uint8Array {
  const flat = new FlatBuilder(16); // grows many times on the way
  const b = flat.asBuilder();
  b.finish(calls(b), identifier);
  return flat.builtBytes().slice();
}

describe('FlatBuilder', () => {
  it("writes the npm Builder's bytes for the same calls", () => {
    expect(flatBytes(tables)).toEqual(npmBytes(tables));
    expect(flatBytes(tables, 'TFL3')).toEqual(npmBytes(tables, 'TFL3'));
  });

  it('lays out each builder\'s tables and vtables afresh though table layouts are cached per process', () => {
    // The second and third builders meet cached layouts whose vtables lie in an earlier builder's bytes;
    // the prefix moves every table to other start offsets (other paddings, other vtables).
    const shifted: Calls = (b) => {
      b.createString('x');
      return tables(b);
    };
    expect(flatBytes(tables)).toEqual(npmBytes(tables));
    expect(flatBytes(shifted)).toEqual(npmBytes(shifted));
    expect(flatBytes(tables)).toEqual(npmBytes(tables));
  });

  it('writes int32 vectors and ASCII strings as startVector + addInt32 and createString would', () => {
    const calls = (b: Builder, fast: boolean): number => {
      // Past 256 values the vector is written element by element instead of through the staging array.
      const values = [7, -1, 0, 2 ** 31 - 1, -(2 ** 31), ...Array.from({ length: 300 }, (_, i) => i * 7919 - 1_000_000)];
      let vector: number;
      if (fast) vector = (b as unknown as FlatBuilder).int32Vector(values.slice(0, 5));
      else {
        b.startVector(4, 5, 4);
        for (let i = 4; i >= 0; i--) b.addInt32(values[i]!);
        vector = b.endVector();
      }
      let long: number;
      if (fast) long = (b as unknown as FlatBuilder).int32Vector(values);
      else {
        b.startVector(4, values.length, 4);
        for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]!);
        long = b.endVector();
      }
      const name = b.createString('/features/features.0/Conv_output_0');
      b.startObject(3);
      b.addFieldOffset(0, vector, 0);
      b.addFieldOffset(1, name, 0);
      b.addFieldOffset(2, long, 0);
      return b.endObject();
    };
    expect(flatBytes((b) => calls(b, true))).toEqual(npmBytes((b) => calls(b, false)));
  });

  it('writes offset vectors, int32 slices and long or non-ASCII strings as the npm calls would', () => {
    const values = [5, 9, -3, 2 ** 31 - 1, 0, 11];
    // The first (non-ASCII after its first unit) grows the 16-byte builder while laid out as ASCII, then is laid out again.
    const texts = ['a' + 'é'.repeat(40), 'conv', 'größe/ß', 'x'.repeat(300), 'y'.repeat(255) + 'é', ''];
    const calls = (b: Builder, fast: boolean): number => {
      const strings = texts.map((text) => b.createString(text));
      let slice: number;
      if (fast) slice = (b as unknown as FlatBuilder).int32VectorOf(values, 2, 3);
      else {
        b.startVector(4, 3, 4);
        for (let i = 4; i >= 2; i--) b.addInt32(values[i]!);
        slice = b.endVector();
      }
      const offsets = [...strings, slice];
      if (fast) return (b as unknown as FlatBuilder).offsetVector(offsets);
      b.startVector(4, offsets.length, 4);
      for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
      return b.endVector();
    };
    expect(flatBytes((b) => calls(b, true))).toEqual(npmBytes((b) => calls(b, false)));
  });

  it("reuses a released builder's memory, whatever bytes it still holds", () => {
    const first = new FlatBuilder(1 << 12);
    first.asBuilder().finish(tables(first.asBuilder()));
    const memory = first.builtBytes().buffer;
    first.release();
    new Uint8Array(memory).fill(0xa5); // stale bytes where the next builder's padding and tables go
    const second = new FlatBuilder(16);
    second.asBuilder().finish(tables(second.asBuilder()));
    expect(second.builtBytes().buffer).toBe(memory);
    expect(second.builtBytes().slice()).toEqual(npmBytes(tables));
    second.release();
  });

  it('leaves reserved vectors out as gaps at the offsets room in the npm Builder would have', () => {
    const data = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(40).map((_, i) => i + 1)];
    const withData = (b: Builder): number => {
      const vectors = data.map((bytes) => {
        b.prep(16, bytes.byteLength);
        return b.createByteVector(bytes);
      });
      b.startVector(4, vectors.length, 4);
      for (let i = vectors.length - 1; i >= 0; i--) b.addOffset(vectors[i]!);
      return b.endVector();
    };
    const expected = npmBytes((b) => {
      const vector = withData(b);
      b.startObject(1);
      b.addFieldOffset(0, vector, 0);
      return b.endObject();
    });
    const flat = new FlatBuilder(16);
    const b = flat.asBuilder();
    const vectors = data.map((bytes) => flat.reserveVector(bytes.byteLength));
    b.startVector(4, vectors.length, 4);
    for (let i = vectors.length - 1; i >= 0; i--) b.addOffset(vectors[i]!);
    const vector = b.endVector();
    b.startObject(1);
    b.addFieldOffset(0, vector, 0);
    b.finish(b.endObject());
    const built = flat.builtBytes();
    expect(flat.fileLength).toBe(expected.byteLength);
    // The file: the built bytes with each gap's data inserted, the first gap (last in the file) nearest the end.
    const file: number[] = [];
    let from = 0;
    const splits = flat.gaps.map((gap, i) => ({ split: built.byteLength - gap.physicalEnd, bytes: data[i]! })).reverse();
    for (const { split, bytes } of splits) {
      file.push(...built.subarray(from, split), ...bytes);
      from = split;
    }
    file.push(...built.subarray(from));
    expect(Uint8Array.from(file)).toEqual(expected);
  });
});
