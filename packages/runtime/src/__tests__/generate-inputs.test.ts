import { describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, attrs, tensorType } from '@modelpass/ir';
import { generateInputs, generatedIndexRanges } from '@modelpass/runtime';

function model() {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', ['N', 3]));
  const ids = b.input('ids', tensorType('int64', ['N', 'seq']));
  const mask = b.input('mask', tensorType('bool', [2]));
  const half = b.input('half', tensorType('float16', [4]));
  const names = b.input('names', tensorType('string', [2]));
  const bias = b.input('bias', tensorType('float32', [3]));
  b.graph.markConstant(bias, Tensor.fromValues('float32', [3], [1, 2, 3]));
  b.output(b.op1('onnx.Add', [x, bias]), ids, mask, half, names);
  return b.model();
}

describe('generateInputs', () => {
  it('makes one tensor per input without a default, with the right dtypes and fixed symbolic dims', () => {
    const feeds = generateInputs(model(), { seed: 3, dims: { N: 2, seq: 5 } });
    expect([...feeds.keys()]).toEqual(['x', 'ids', 'mask', 'half', 'names']);
    expect(feeds.get('x')!.shape).toEqual([2, 3]);
    expect(feeds.get('ids')!.shape).toEqual([2, 5]);
    expect(feeds.get('ids')!.dtype).toBe('int64');
    expect(feeds.get('half')!.dtype).toBe('float16');
    expect(feeds.get('names')!.strings!.every((s) => /^[a-z]{1,8}$/.test(s))).toBe(true);
    for (const v of feeds.get('x')!.toNumbers()) expect(v >= -1 && v < 1).toBe(true);
    for (const v of feeds.get('ids')!.toNumbers()) expect(Number.isInteger(v) && v >= 0 && v <= 9).toBe(true);
    for (const v of feeds.get('mask')!.toNumbers()) expect([0, 1]).toContain(v);
  });

  it('is deterministic per seed, and each input has its own stream', () => {
    const a = generateInputs(model(), { seed: 11, dims: { N: 4, seq: 2 } });
    const b = generateInputs(model(), { seed: 11, dims: { N: 4, seq: 2 } });
    const c = generateInputs(model(), { seed: 12, dims: { N: 4, seq: 2 } });
    expect(a.get('x')!.equals(b.get('x')!)).toBe(true);
    expect(a.get('x')!.equals(c.get('x')!)).toBe(false);
    // Changing another input's shape does not change x.
    const d = generateInputs(model(), { seed: 11, dims: { N: 4, seq: 7 } });
    expect(a.get('x')!.equals(d.get('x')!)).toBe(true);
  });

  it('honours ranges, shapes, includeDefaults and defaultDim', () => {
    const feeds = generateInputs(model(), {
      seed: 1,
      defaultDim: 3,
      ranges: { x: [5, 6], ids: [100, 102] },
      shapes: { ids: [1, 1] },
      includeDefaults: true,
    });
    expect(feeds.get('x')!.shape).toEqual([3, 3]);
    for (const v of feeds.get('x')!.toNumbers()) expect(v >= 5 && v < 6).toBe(true);
    expect(feeds.get('ids')!.shape).toEqual([1, 1]);
    expect(feeds.get('ids')!.toNumbers()[0]).toBeGreaterThanOrEqual(100);
    expect(feeds.has('bias')).toBe(true);
  });

  it('names the input and the dimension when a symbolic dim has no size', () => {
    expect(() => generateInputs(model(), { dims: { N: 1 } })).toThrow(
      expect.objectContaining({ name: 'ModelpassError', message: expect.stringMatching(/input 'ids' has a symbolic dimension 'seq' at axis 1/) }),
    );
    expect(() => generateInputs(model(), { dims: { N: 1, seq: 1 }, ranges: { nope: [0, 1] } })).toThrow(/'nope', which is not an input/);
    expect(() => generateInputs(model(), { dims: { N: 1, seq: 1 }, ranges: { ids: [0, 2 ** 60] } })).toThrow(/does not fit int64/);
    const unranked = new GraphBuilder();
    unranked.output(unranked.input('u', tensorType('float32', null)));
    expect(() => generateInputs(unranked.model())).toThrow(/input 'u': its rank is unknown/);
  });

  it('refuses inputs past the memory budget before drawing any, naming them and the sizes', () => {
    const big = new GraphBuilder();
    big.output(big.op1('onnx.Relu', [big.input('x', tensorType('float32', [1, 3_000_000_000]))]));
    expect(() => generateInputs(big.model())).toThrow(/generating the inputs would need about 33\.5 GiB, more than the .* this process may use/);
    expect(() => generateInputs(model(), { dims: { N: 2, seq: 5 }, memoryBudget: 100 })).toThrow(/inputs 'x' float32\[2,3\], 'ids' int64\[2,5\]/);
    expect(generateInputs(model(), { dims: { N: 2, seq: 5 }, memoryBudget: 10_000 }).size).toBe(5);
  });
});

describe('generateInputs: ids that index a table', () => {
  /** ids → Gather(table[rows, 2]) and, behind an Unsqueeze, a second reader on a `second`-row table. */
  function lookup(rows: number, second?: number) {
    const b = new GraphBuilder();
    const ids = b.input('ids', tensorType('int32', [64]));
    const table = b.constant(Tensor.fromValues('float32', [rows, 2], Array.from({ length: rows * 2 }, (_, i) => i)), 'table');
    const outputs = [b.op1('onnx.Gather', [table, ids], {}, { name: 'embed' })];
    if (second !== undefined) {
      const other = b.constant(Tensor.fromValues('float32', [2, second], Array.from({ length: 2 * second }, (_, i) => i)), 'other');
      const unsqueezed = b.op1('onnx.Unsqueeze', [ids, b.constant(Tensor.fromValues('int64', [1], [0n]), 'axes')]);
      outputs.push(b.op1('onnx.Gather', [other, unsqueezed], { axis: attrs.int(-1) }, { name: 'columns' }));
    }
    b.output(...outputs);
    return b.model();
  }

  it('draws ids within the rows of the table (the smallest over the readers), and says which', () => {
    expect(generatedIndexRanges(lookup(4))).toEqual(new Map([['ids', { range: [0, 3], reader: "Gather 'embed' indexes axis 0 of size 4" }]]));
    for (const v of generateInputs(lookup(4)).get('ids')!.toNumbers()) expect(v >= 0 && v <= 3).toBe(true);
    expect(new Set(generateInputs(lookup(4)).get('ids')!.toNumbers())).toEqual(new Set([0, 1, 2, 3]));
    expect(generatedIndexRanges(lookup(6, 2)).get('ids')).toEqual({ range: [0, 1], reader: "Gather 'columns' indexes axis 1 of size 2" });
  });

  it('follows ids through a Mod (a TorchScript nn.Embedding reads Mod(ids, rows))', () => {
    const b = new GraphBuilder();
    const ids = b.input('ids', tensorType('int64', [8]));
    const wrapped = b.op1('onnx.Mod', [ids, b.constant(Tensor.scalar('int64', 6n), 'rows')]);
    b.output(b.op1('onnx.Gather', [b.constant(Tensor.fromValues('float32', [6, 2], Array.from({ length: 12 }, (_, i) => i)), 'weight'), wrapped], {}, { name: 'embedding' }));
    expect(generatedIndexRanges(b.model()).get('ids')).toEqual({ range: [0, 5], reader: "Gather 'embedding' indexes axis 0 of size 6" });
  });

  it('follows ids through a Slice, a Gather of the ids themselves, Concat and Split (QA s18 round 17)', () => {
    const table = (b: GraphBuilder, rows: number, name: string) =>
      b.constant(Tensor.fromValues('float32', [rows, 2], Array.from({ length: rows * 2 }, (_, i) => i)), name);
    const i64 = (b: GraphBuilder, values: bigint[], name: string) => b.constant(Tensor.fromValues('int64', [values.length], values), name);
    // ids[1:3] → Embedding(5); ids[0] → Embedding(3): the smallest bound, behind a Gather on the ids' data side.
    const b = new GraphBuilder();
    const ids = b.input('ids', tensorType('int64', [4]));
    const sliced = b.op1('onnx.Slice', [ids, i64(b, [1n], 'starts'), i64(b, [3n], 'ends')]);
    const first = b.op1('onnx.Gather', [ids, b.constant(Tensor.fromValues('int64', [1], [0n]), 'zero')]);
    b.output(b.op1('onnx.Gather', [table(b, 5, 'words'), sliced], {}, { name: 'words_embed' }));
    b.output(b.op1('onnx.Gather', [table(b, 3, 'cls'), first], {}, { name: 'cls_embed' }));
    expect(generatedIndexRanges(b.model()).get('ids')).toEqual({ range: [0, 2], reader: "Gather 'cls_embed' indexes axis 0 of size 3" });
    // Concat([bos, ids]) and the second part of a Split both reach a table.
    const c = new GraphBuilder();
    const tokens = c.input('tokens', tensorType('int64', [4]));
    const joined = c.op1('onnx.Concat', [i64(c, [0n], 'bos'), tokens], { axis: attrs.int(0) });
    const parts = c.op('onnx.Split', [tokens, i64(c, [2n, 2n], 'sizes')], { axis: attrs.int(0) }, { outputs: 2 });
    c.output(c.op1('onnx.Gather', [table(c, 7, 'a'), joined], {}, { name: 'a_embed' }));
    c.output(c.op1('onnx.Gather', [table(c, 4, 'b'), parts[1]!], {}, { name: 'b_embed' }));
    expect(generatedIndexRanges(c.model()).get('tokens')).toEqual({ range: [0, 3], reader: "Gather 'b_embed' indexes axis 0 of size 4" });
  });

  it('holds GatherND ids below the smallest data dim their index rows pick, after batch_dims', () => {
    const b = new GraphBuilder();
    const ids = b.input('ids', tensorType('int32', [3]));
    const rows = (types?: ReturnType<typeof tensorType>[]) =>
      b.op1('onnx.Unsqueeze', [b.op1('onnx.Cast', [ids], { to: attrs.int(7) }), b.constant(Tensor.fromValues('int64', [1], [-1n]), 'axes')], {}, types ? { types } : {});
    const data = b.constant(Tensor.fromValues('float32', [6, 2], Array.from({ length: 12 }, (_, i) => i)), 'data');
    const known = b.op1('onnx.GatherND', [data, rows([tensorType('int64', [3, 1])])], {}, { name: 'pick' });
    b.output(known);
    expect(generatedIndexRanges(b.model()).get('ids')).toEqual({ range: [0, 5], reader: "GatherND 'pick' indexes axis 0 of size 6" });
    // Indices of unknown shape: any data dim may be picked, so the smallest of them bounds.
    b.output(b.op1('onnx.GatherND', [data, rows()], {}, { name: 'unknown' }));
    expect(generatedIndexRanges(b.model()).get('ids')).toEqual({ range: [0, 1], reader: "GatherND 'unknown' indexes axis 1 of size 2" });
    const c = new GraphBuilder();
    const pairs = c.input('pairs', tensorType('int64', [2, 5, 2]));
    const cube = c.constant(Tensor.fromValues('float32', [2, 8, 4], Array.from({ length: 64 }, (_, i) => i)), 'cube');
    c.output(c.op1('onnx.GatherND', [cube, pairs], { batch_dims: attrs.int(1) }, { name: 'batched' }));
    expect(generatedIndexRanges(c.model()).get('pairs')).toEqual({ range: [0, 3], reader: "GatherND 'batched' indexes axis 2 of size 4" });
  });

  it('keeps the default range for a table of 10 rows or more, and a given range wins', () => {
    expect(generatedIndexRanges(lookup(10)).size).toBe(0);
    expect(generatedIndexRanges(lookup(4), { ranges: { ids: [0, 1] } }).size).toBe(0);
    for (const v of generateInputs(lookup(4), { ranges: { ids: [5, 6] } }).get('ids')!.toNumbers()) expect(v >= 5).toBe(true);
  });
});
