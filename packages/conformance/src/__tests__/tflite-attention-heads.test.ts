/**
 * Multi-head attention as torch 1.13 exports nn.MultiheadAttention / nn.TransformerEncoder(Decoder)Layer
 * with one sequence in the batch: x → Transpose [1,0,2] → MatMul W_in (+ b) → Slice q/k/v → Reshape
 * [L, H, hd] → Transpose [1,0,2] (q, v) / [1,2,0] (k) → q·kᵀ → Softmax → ·v → Transpose [1,0,2] →
 * Reshape [L, E] → Gemm W_out → Reshape → Transpose back. legalize-tflite takes the heads head-major
 * from the projection, kᵀ as BATCH_MATMUL's adj_y and the merge as one product per head summed, so no
 * transpose is left inside (QA s12: 8 per 2-layer encoder, 16 per decoder); the TFLite runtime must
 * agree with ONNX Runtime on the original. With a batch of 2 torch's Reshape [L, B·H, hd] interleaves batch and
 * heads: batch first, the projection reads the batch-major value before torch's swap and the heads are grouped per
 * batch (none left); sequence first, x is swapped to batch-major once for q, k and v and the result swapped back
 * at the graph output (4 transposes become 2, both at the edges).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Tensor, type GraphBuilder, type Value } from '@modelpass/ir';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { countTransposes } from '@modelpass/tflite';
import { compareInRuntimes, feedsFor, legalize, seededTensor, singleInputModel, type SingleInputCase } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

const i64 = (values: number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));
const EMBED = 16;
const HEADS = 4;
const HEAD_SIZE = EMBED / HEADS;

interface AttentionShape {
  readonly length: number;
  readonly batch: number;
  /** q, k, v from one packed projection sliced three ways (self-attention) or q separate and k/v packed (cross-attention's spelling). */
  readonly packing: 'qkv' | 'q+kv';
  /** The out-projection as Gemm (transB=1, torch's) or MatMul. */
  readonly out: 'gemm' | 'matmul';
  /** x given as [L, batch, E] (batch_first=False): no swap at the input or back at the output. */
  readonly sequenceFirst?: boolean;
}

function slice(b: GraphBuilder, x: Value, start: number, end: number): Value {
  return b.op1('onnx.Slice', [x, b.constant(i64([start])), b.constant(i64([end])), b.constant(i64([-1]))]);
}

function projection(b: GraphBuilder, x: Value, width: number, seed: number): Value {
  const product = b.op1('onnx.MatMul', [x, b.constant(seededTensor([EMBED, width], seed, -0.5, 0.5))]);
  return b.op1('onnx.Add', [b.constant(seededTensor([width], seed + 1, -0.2, 0.2)), product]);
}

/** One attention block on x [batch, L, E] (batch_first), torch 1.13's export spelling. */
function attention(shape: AttentionShape, seed: number): SingleInputCase['build'] {
  return (b, x) => {
    const { length, batch } = shape;
    const sequenceFirst = shape.sequenceFirst ? x : b.op1('onnx.Transpose', [x], { perm: attrs.ints([1, 0, 2]) });
    let q: Value;
    let k: Value;
    let v: Value;
    if (shape.packing === 'qkv') {
      const packed = projection(b, sequenceFirst, 3 * EMBED, seed);
      [q, k, v] = [0, 1, 2].map((i) => slice(b, packed, i * EMBED, (i + 1) * EMBED)) as [Value, Value, Value];
    } else {
      q = projection(b, sequenceFirst, EMBED, seed);
      const packed = projection(b, sequenceFirst, 2 * EMBED, seed + 2);
      [k, v] = [0, 1].map((i) => slice(b, packed, i * EMBED, (i + 1) * EMBED)) as [Value, Value];
    }
    const heads = (value: Value, perm: number[]) =>
      b.op1('onnx.Transpose', [b.op1('onnx.Reshape', [value, b.constant(i64([length, batch * HEADS, HEAD_SIZE]))])], { perm: attrs.ints(perm) });
    const qh = b.op1('onnx.Div', [heads(q, [1, 0, 2]), b.constant(Tensor.scalar('float32', Math.sqrt(HEAD_SIZE)))]);
    const scores = b.op1('onnx.Softmax', [b.op1('onnx.MatMul', [qh, heads(k, [1, 2, 0])])], { axis: attrs.int(-1) });
    const context = b.op1('onnx.MatMul', [scores, heads(v, [1, 0, 2])]);
    const merged = b.op1('onnx.Reshape', [b.op1('onnx.Transpose', [context], { perm: attrs.ints([1, 0, 2]) }), b.constant(i64([length * batch, EMBED]))]);
    const outWeight = seededTensor([EMBED, EMBED], seed + 5, -0.5, 0.5);
    const outBias = b.constant(seededTensor([EMBED], seed + 6, -0.2, 0.2));
    const projected =
      shape.out === 'gemm'
        ? b.op1('onnx.Gemm', [merged, b.constant(outWeight), outBias], { transB: attrs.int(1) })
        : b.op1('onnx.Add', [b.op1('onnx.MatMul', [merged, b.constant(outWeight)]), outBias]);
    const back = b.op1('onnx.Reshape', [projected, b.constant(i64([length, batch, EMBED]))]);
    return b.op1('onnx.Add', [x, shape.sequenceFirst ? back : b.op1('onnx.Transpose', [back], { perm: attrs.ints([1, 0, 2]) })]);
  };
}

/** A hand-written batch-first attention on x [N, L, E] (N symbolic): Reshape [0, L, H, hd] → Transpose [0,2,1,3] (keys [0,2,3,1]), merge [0,2,1,3] → Reshape [0, L, E] → MatMul. */
function batchFirstAttention(length: number, seed: number): SingleInputCase['build'] {
  return (b, x) => {
    const packed = projection(b, x, 3 * EMBED, seed);
    const heads = (i: number, perm: number[]) =>
      b.op1('onnx.Transpose', [b.op1('onnx.Reshape', [slice(b, packed, i * EMBED, (i + 1) * EMBED), b.constant(i64([0, length, HEADS, HEAD_SIZE]))])], { perm: attrs.ints(perm) });
    const scores = b.op1('onnx.Softmax', [b.op1('onnx.MatMul', [heads(0, [0, 2, 1, 3]), heads(1, [0, 2, 3, 1])])], { axis: attrs.int(-1) });
    const context = b.op1('onnx.MatMul', [scores, heads(2, [0, 2, 1, 3])]);
    const merged = b.op1('onnx.Reshape', [b.op1('onnx.Transpose', [context], { perm: attrs.ints([0, 2, 1, 3]) }), b.constant(i64([0, length, EMBED]))]);
    return b.op1('onnx.MatMul', [merged, b.constant(seededTensor([EMBED, EMBED], seed + 5, -0.5, 0.5))]);
  };
}

const CASES: (AttentionShape & { name: string })[] = [
  { name: 'self-attention (packed q/k/v), Gemm out-projection', length: 6, batch: 1, packing: 'qkv', out: 'gemm' },
  { name: 'cross-attention spelling (q alone, k/v packed), MatMul out-projection', length: 5, batch: 1, packing: 'q+kv', out: 'matmul' },
];

describe('attention head split/merge without transposes', () => {
  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const build: SingleInputCase = { input: [testCase.batch, testCase.length, EMBED], opset: 14, build: attention(testCase, 40) };
      const original = singleInputModel(build);
      const converted = singleInputModel(build);
      expect(original.graph.nodeList().filter((node) => node.op === 'onnx.Transpose').length).toBe(6);
      await legalize(converted, 'optimize=false');
      const differences = await compareInRuntimes(original, converted, feedsFor(original, 7));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
      expect(countTransposes(converted.graph).inner).toBe(0);
      const ops = converted.graph.nodeList().map((node) => node.op);
      expect(ops.filter((op) => op === 'tflite.BATCH_MATMUL').length).toBe(5); // q, k, v projections, q·kᵀ, ·v (the merge: one FULLY_CONNECTED per head)
      expect(converted.graph.nodeList().some((node) => node.op === 'tflite.BATCH_MATMUL' && node.attr('adj_y', 'int') === 1)).toBe(true);
    });
  }

  it('batch first with a symbolic batch ([N, L, H, hd] by [0,2,1,3])', async () => {
    const build: SingleInputCase = { input: ['N', 7, EMBED], opset: 14, build: batchFirstAttention(7, 60) };
    const original = singleInputModel(build);
    const converted = singleInputModel(build);
    await legalize(converted, 'optimize=false');
    for (const batch of [1, 3]) {
      const differences = await compareInRuntimes(original, converted, { x: seededTensor([batch, 7, EMBED], 8 + batch) });
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
    }
    expect(countTransposes(converted.graph).inner).toBe(0);
  });

  it('a batch of 2 (torch\'s Reshape [L, B·H, hd] interleaves batch and heads), batch first: the input swap cancels, none left', async () => {
    const build: SingleInputCase = { input: [2, 5, EMBED], opset: 14, build: attention({ length: 5, batch: 2, packing: 'qkv', out: 'gemm' }, 50) };
    const original = singleInputModel(build);
    const converted = singleInputModel(build);
    await legalize(converted, 'optimize=false');
    const differences = await compareInRuntimes(original, converted, feedsFor(original, 7));
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
    expect(countTransposes(converted.graph)).toEqual({ inner: 0, boundary: 0 });
  });

  for (const packing of ['q+kv', 'qkv'] as const) {
    it(`a batch of 2 given sequence first ([L, B, E]), ${packing}: one swap of x to batch-major shared by q, k and v, one back at the output (was 4 inside)`, async () => {
      const shape: AttentionShape = { length: 5, batch: 2, packing, out: 'gemm', sequenceFirst: true };
      const build: SingleInputCase = { input: [5, 2, EMBED], opset: 14, build: attention(shape, 70) };
      const original = singleInputModel(build);
      const converted = singleInputModel(build);
      await legalize(converted, 'optimize=false');
      const differences = await compareInRuntimes(original, converted, feedsFor(original, 7));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
      // The swap of the graph input is at the edge; the swap back sinks through the residual Add with x (which reads
      // x's existing swap) and the rest of the block to the graph output: both at the edges (was one inside).
      expect(countTransposes(converted.graph)).toEqual({ inner: 0, boundary: 2 });
    });
  }
});
