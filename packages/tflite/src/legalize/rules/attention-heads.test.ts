import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { attrs, FileRangeStorage, GraphBuilder, Tensor, tensorType, type Value } from '@modelpass/ir';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { registerTfliteDialect } from '../../dialect/index.js';
import { lowerToTflite } from '../legalize.js';
import { prepareCanonicalForTflite } from '../prepare.js';
import { attentionPermKey } from './attention-heads.js';

const work = mkdtempSync(join(tmpdir(), 'modelpass-attention-heads-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A weight in a file, counting how often it is read whole and how many bytes are read from it in all. */
class CountingFileStorage extends FileRangeStorage {
  reads = 0;
  bytesRead = 0;
  override read(): Uint8Array {
    this.reads++;
    return super.read();
  }
  override readChunk(target: Uint8Array, start: number): void {
    this.bytesRead += target.byteLength;
    super.readChunk(target, start);
  }
}

const LENGTH = 3;
const HEADS = 2;
const HEAD_SIZE = 4;
const EMBED = HEADS * HEAD_SIZE;

const i64 = (values: number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

describe('attention head split (prepareCanonicalForTflite)', () => {
  it('reads a packed in-projection from its file once for q, k and v, and takes each head’s columns head-major', () => {
    // W [E, 3E] in a file, as the ONNX reader leaves a large initializer.
    const values = Float32Array.from({ length: EMBED * 3 * EMBED }, (_, i) => ((i * 37) % 101) / 7 - 5);
    const file = join(work, 'w.bin');
    writeFileSync(file, new Uint8Array(values.buffer));
    const storage = new CountingFileStorage(file, 0, values.byteLength);

    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [LENGTH, EMBED]));
    const packed = b.op1('onnx.MatMul', [x, b.constant(Tensor.fromStorage('float32', [EMBED, 3 * EMBED], storage), 'in_proj_weight')]);
    const heads = (part: number, perm: number[]): Value => {
      const slice = b.op1('onnx.Slice', [packed, b.constant(i64([part * EMBED])), b.constant(i64([(part + 1) * EMBED])), b.constant(i64([-1]))]);
      const split = b.op1('onnx.Reshape', [slice, b.constant(i64([LENGTH, HEADS, HEAD_SIZE]))]);
      return b.op1('onnx.Transpose', [split], { perm: attrs.ints(perm) }, { name: `heads${part}` });
    };
    const q = heads(0, [1, 0, 2]);
    const k = heads(1, [1, 2, 0]); // the keys already transposed for q·kᵀ
    const v = heads(2, [1, 0, 2]);
    b.output(b.op1('onnx.MatMul', [b.op1('onnx.MatMul', [q, k]), v]));
    const model = b.model({ onnx: 17 });
    inferShapes(model, { mode: 'refresh' });

    expect(prepareCanonicalForTflite(model)).toBeGreaterThanOrEqual(3);

    // Read from its file once, whole or in one chunk.
    expect(storage.bytesRead).toBe(values.byteLength);
    for (const part of [0, 1, 2]) {
      const weight = model.graph.constants.find((value) => value.name === `heads${part}_head_weights`)?.constant;
      expect(weight?.shape).toEqual([HEADS, EMBED, HEAD_SIZE]);
      // [h][i][d] = W[i][part·E + h·hd + d]
      const expected: number[] = [];
      for (let h = 0; h < HEADS; h++) for (let i = 0; i < EMBED; i++) for (let d = 0; d < HEAD_SIZE; d++) expected.push(values[i * 3 * EMBED + part * EMBED + h * HEAD_SIZE + d]!);
      expect(weight!.toNumbers()).toEqual(expected);
    }
    // No head-split Transpose is left (the keys keep only the swap of their last two axes).
    expect(model.graph.nodeList().filter((node) => node.op === 'onnx.Transpose').map((node) => node.optionalAttr('perm', 'ints')?.map(Number))).toEqual([[0, 2, 1]]);
  });
  it('takes q, k and v of a packed in-projection as views of one head-major buffer, the weight rearranged once', () => {
    const values = Float32Array.from({ length: EMBED * 3 * EMBED }, (_, i) => ((i * 29) % 97) / 5 - 9);
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [LENGTH, EMBED]));
    // In memory as the ONNX reader leaves a small initializer: a Buffer view into the file's bytes at an offset that is
    // not a multiple of 4 (its float32 words are copied aligned first).
    const file = Buffer.alloc(values.byteLength + 2);
    file.set(new Uint8Array(values.buffer), 2);
    const stored = Buffer.from(file.buffer, file.byteOffset + 2, values.byteLength);
    const packed = b.op1('onnx.MatMul', [x, b.constant(Tensor.fromBytes('float32', [EMBED, 3 * EMBED], stored), 'in_proj_weight')]);
    const parts = [0, 1, 2].map((part) => {
      const slice = b.op1('onnx.Slice', [packed, b.constant(i64([part * EMBED])), b.constant(i64([(part + 1) * EMBED])), b.constant(i64([-1]))]);
      const split = b.op1('onnx.Reshape', [slice, b.constant(i64([LENGTH, HEADS, HEAD_SIZE]))]);
      return b.op1('onnx.Transpose', [split], { perm: attrs.ints([1, 0, 2]) }, { name: `heads${part}` });
    });
    b.output(b.op1('onnx.Add', [b.op1('onnx.Add', [parts[0]!, parts[1]!]), parts[2]!]));
    const model = b.model({ onnx: 17 });
    inferShapes(model, { mode: 'refresh' });

    expect(prepareCanonicalForTflite(model)).toBeGreaterThanOrEqual(3);

    const weights = [0, 1, 2].map((part) => model.graph.constants.find((value) => value.name === `heads${part}_head_weights`)!.constant!);
    const buffers = weights.map((weight) => weight.bytes());
    // One buffer [3·H, E, hd] for the three parts, each part a run of H blocks of it.
    expect(new Set(buffers.map((bytes) => bytes.buffer)).size).toBe(1);
    expect(buffers.map((bytes) => bytes.byteOffset)).toEqual([0, 1, 2].map((part) => part * EMBED * EMBED * 4));
    for (const [part, weight] of weights.entries()) {
      const expected: number[] = [];
      for (let h = 0; h < HEADS; h++) for (let i = 0; i < EMBED; i++) for (let d = 0; d < HEAD_SIZE; d++) expected.push(values[i * 3 * EMBED + part * EMBED + h * HEAD_SIZE + d]!);
      expect(weight.toNumbers()).toEqual(expected);
    }
  });

  it('transposes a Gemm projection\'s transB weight (Conv1D-style rows, [3E, E] in a file) once for q, k and v', () => {
    // W [3E, E] in a file; the projection is Reshape(x, [L, E]) → Gemm(transB=1) → Reshape [1, L, 3E].
    const values = Float32Array.from({ length: 3 * EMBED * EMBED }, (_, i) => ((i * 41) % 89) / 3 - 11);
    const file = join(work, 'w-rows.bin');
    writeFileSync(file, new Uint8Array(values.buffer));
    const storage = new CountingFileStorage(file, 0, values.byteLength);

    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [1, LENGTH, EMBED]));
    const rows = b.op1('onnx.Reshape', [x, b.constant(i64([LENGTH, EMBED]))]);
    const gemm = b.op1('onnx.Gemm', [rows, b.constant(Tensor.fromStorage('float32', [3 * EMBED, EMBED], storage), 'c_attn_weight')], { transB: attrs.int(1) });
    const packed = b.op1('onnx.Reshape', [gemm, b.constant(i64([1, LENGTH, 3 * EMBED]))]);
    const parts = [0, 1, 2].map((part) => {
      const slice = b.op1('onnx.Slice', [packed, b.constant(i64([part * EMBED])), b.constant(i64([(part + 1) * EMBED])), b.constant(i64([-1]))]);
      const split = b.op1('onnx.Reshape', [slice, b.constant(i64([1, LENGTH, HEADS, HEAD_SIZE]))]);
      return b.op1('onnx.Transpose', [split], { perm: attrs.ints([0, 2, 1, 3]) }, { name: `heads${part}` });
    });
    b.output(b.op1('onnx.Add', [b.op1('onnx.Add', [parts[0]!, parts[1]!]), parts[2]!]));
    const model = b.model({ onnx: 17 });
    inferShapes(model, { mode: 'refresh' });

    expect(prepareCanonicalForTflite(model)).toBeGreaterThanOrEqual(3);

    // The weight's bytes come from its file once (a transpose per part read them three times).
    expect(storage.bytesRead).toBe(values.byteLength);
    for (const part of [0, 1, 2]) {
      const weight = model.graph.constants.find((value) => value.name === `heads${part}_head_weights`)?.constant;
      expect(weight?.shape).toEqual([HEADS, EMBED, HEAD_SIZE]);
      // [h][i][d] = Wᵀ[i][part·E + h·hd + d] = W[part·E + h·hd + d][i]
      const expected: number[] = [];
      for (let h = 0; h < HEADS; h++) for (let i = 0; i < EMBED; i++) for (let d = 0; d < HEAD_SIZE; d++) expected.push(values[(part * EMBED + h * HEAD_SIZE + d) * EMBED + i]!);
      expect(weight!.toNumbers()).toEqual(expected);
    }
    expect(model.graph.nodeList().filter((node) => node.op === 'onnx.Transpose')).toEqual([]);
  });
});

describe('attention head merge (prepareCanonicalForTflite)', () => {
  it('takes each head\'s rows of an out-projection still in its file as that part of the file: nothing is read until the TFLite weights are', () => {
    // A[H, L, hd] → Transpose [1,0,2] → Reshape [L, E] → MatMul by Wo [E, Eout] in a file.
    const OUT = 5;
    const values = Float32Array.from({ length: EMBED * OUT }, (_, i) => ((i * 13) % 23) / 4 - 2);
    const file = join(work, 'wo.bin');
    // Wo after 12 bytes of something else, as an initializer lies inside its .onnx.
    writeFileSync(file, Buffer.concat([Buffer.alloc(12, 7), Buffer.from(values.buffer)]));
    const storage = new FileRangeStorage(file, 12, values.byteLength);
    // Every read of a file range (Wo's or a part's), counted.
    const reads = vi.spyOn(FileRangeStorage.prototype, 'readChunk');

    const b = new GraphBuilder();
    const attention = b.input('attention', tensorType('float32', [HEADS, LENGTH, HEAD_SIZE]));
    const merged = b.op1('onnx.Transpose', [attention], { perm: attrs.ints([1, 0, 2]) }, { name: 'merge' });
    const rows = b.op1('onnx.Reshape', [merged, b.constant(i64([LENGTH, EMBED]))]);
    b.output(b.op1('onnx.MatMul', [rows, b.constant(Tensor.fromStorage('float32', [EMBED, OUT], storage), 'out_proj_weight')], {}, { name: 'out_proj' }));
    const model = b.model({ onnx: 17 });
    const registry = registerTfliteDialect(createOpRegistry());
    inferShapes(model, { registry, mode: 'refresh' });

    expect(prepareCanonicalForTflite(model)).toBe(1);
    expect(reads).not.toHaveBeenCalled();
    const rowsOf = (h: number): number[] => Array.from(values.subarray(h * HEAD_SIZE * OUT, (h + 1) * HEAD_SIZE * OUT));
    for (let h = 0; h < HEADS; h++) {
      const weight = model.graph.constants.find((value) => value.name === `out_proj_head${h}_weights`)?.constant;
      expect(weight?.storage?.kind).toBe('file-range');
      expect(weight?.shape).toEqual([HEAD_SIZE, OUT]);
      expect(weight!.toNumbers()).toEqual(rowsOf(h));
    }

    reads.mockClear();
    // Lowered: each head a FULLY_CONNECTED whose [Eout, hd] weights are its rows transposed as they are read.
    lowerToTflite(model, registry);
    expect(reads).not.toHaveBeenCalled();
    const products = model.graph.nodeList().filter((node) => node.op === 'tflite.FULLY_CONNECTED');
    expect(products).toHaveLength(HEADS);
    for (const [h, product] of products.entries()) {
      const weight = product.inputs[1]!.constant!;
      expect(weight.storage?.kind).toBe('computed');
      const expected: number[] = [];
      for (let o = 0; o < OUT; o++) for (let d = 0; d < HEAD_SIZE; d++) expected.push(rowsOf(h)[d * OUT + o]!);
      expect(weight.toNumbers()).toEqual(expected);
    }
    reads.mockRestore();
  });

  it('reads an out-projection of a storage class of its own whole (its bytes need not be the file\'s at its offset)', () => {
    const OUT = 3;
    const values = Float32Array.from({ length: EMBED * OUT }, (_, i) => i / 8 - 1);
    const file = join(work, 'wo-counted.bin');
    writeFileSync(file, new Uint8Array(values.buffer));
    const storage = new CountingFileStorage(file, 0, values.byteLength);
    const b = new GraphBuilder();
    const attention = b.input('attention', tensorType('float32', [HEADS, LENGTH, HEAD_SIZE]));
    const merged = b.op1('onnx.Transpose', [attention], { perm: attrs.ints([1, 0, 2]) });
    const rows = b.op1('onnx.Reshape', [merged, b.constant(i64([LENGTH, EMBED]))]);
    b.output(b.op1('onnx.MatMul', [rows, b.constant(Tensor.fromStorage('float32', [EMBED, OUT], storage), 'out_proj_weight')], {}, { name: 'out_proj' }));
    const model = b.model({ onnx: 17 });
    inferShapes(model, { mode: 'refresh' });

    expect(prepareCanonicalForTflite(model)).toBe(1);
    expect(storage.bytesRead).toBe(values.byteLength);
    for (let h = 0; h < HEADS; h++) {
      const weight = model.graph.constants.find((value) => value.name === `out_proj_head${h}_weights`)!.constant!;
      expect(weight.storage?.kind).toBe('memory');
      expect(weight.toNumbers()).toEqual(Array.from(values.subarray(h * HEAD_SIZE * OUT, (h + 1) * HEAD_SIZE * OUT)));
    }
  });

  it('matches the attention perms number by number, as their joined keys', () => {
    const b = new GraphBuilder();
    const keyOf = (perm: number[]): string | undefined => {
      const x = b.input(`x${perm.join('')}`, tensorType('float32', [2, 3, 4, 5, 6].slice(0, perm.length)));
      return attentionPermKey(b.op1('onnx.Transpose', [x], { perm: attrs.ints(perm) }).producer!);
    };
    for (const perm of [[1, 0, 2], [1, 2, 0], [0, 2, 1, 3], [0, 2, 3, 1], [2, 0, 3, 1, 4], [1, 2, 0, 3]]) expect(keyOf(perm)).toBe(perm.join(','));
    for (const perm of [[0, 1, 2], [2, 1, 0], [0, 2, 1], [1, 0], [1, 0, 2, 3], [0, 2, 1, 3, 4]]) expect(keyOf(perm)).toBeUndefined();
  });
});
