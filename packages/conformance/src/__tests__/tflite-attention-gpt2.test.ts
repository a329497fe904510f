/**
 * Hugging Face GPT-2's attention spelling (QA 6a: a static GPT-2 kept 8 transposes, 4 per layer): Conv1D is
 * `addmm` on the flattened rows, so the projection is x → Reshape [B·L, E] → Gemm W[E, 3E] + b → Reshape
 * [B, L, 3E]; q, k, v are one Split of its last axis; heads Reshape [B, L, H, hd] → Transpose [0,2,1,3]
 * (keys [0,2,3,1]); the merge Transpose [0,2,1,3] → Reshape [B, L, E] → Reshape [B·L, E] → Gemm Wo → Reshape
 * [B, L, E]. legalize-tflite takes the heads head-major from the projection and the merge as one product per
 * head summed, so no transpose is left inside; TFLite 2.9 vs ORT on the original within 1e-4.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Tensor, type GraphBuilder, type Value } from '@modelpass/ir';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { countTransposes } from '@modelpass/tflite';
import { compareInRuntimes, feedsFor, legalize, seededTensor, singleInputModel } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

const i64 = (values: readonly number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));
const EMBED = 16;
const HEADS = 4;
const HEAD_SIZE = EMBED / HEADS;

interface Gpt2Case {
  readonly name: string;
  readonly batch: number;
  readonly length: number;
  readonly opset: number;
  /** The out-projection's weights stored transposed (Gemm transB=1) instead of Conv1D's [in, out]. */
  readonly transB?: boolean;
}

/** HF Conv1D: rows = x.view(-1, in); addmm(b, rows, W); view back. */
function conv1d(b: GraphBuilder, x: Value, dims: readonly number[], width: number, seed: number, transB = false): Value {
  const rows = b.op1('onnx.Reshape', [x, b.constant(i64([-1, dims.at(-1)!]))]);
  const weight = seededTensor(transB ? [width, dims.at(-1)!] : [dims.at(-1)!, width], seed, -0.5, 0.5);
  const product = b.op1('onnx.Gemm', [rows, b.constant(weight), b.constant(seededTensor([width], seed + 1))], transB ? { transB: attrs.int(1) } : {});
  return b.op1('onnx.Reshape', [product, b.constant(i64([...dims.slice(0, -1), width]))]);
}

function gpt2Attention(testCase: Gpt2Case) {
  const { batch, length, opset } = testCase;
  return singleInputModel({
    input: [batch, length, EMBED],
    opset,
    build: (b, x) => {
      const packed = conv1d(b, x, [batch, length, EMBED], 3 * EMBED, 1);
      const sizes = [EMBED, EMBED, EMBED];
      const [q, k, v] = opset >= 13
        ? b.op('onnx.Split', [packed, b.constant(i64(sizes))], { axis: attrs.int(2) }, { outputs: 3 })
        : b.op('onnx.Split', [packed], { axis: attrs.int(2), split: attrs.ints(sizes) }, { outputs: 3 });
      const heads = (value: Value, perm: number[]): Value =>
        b.op1('onnx.Transpose', [b.op1('onnx.Reshape', [value, b.constant(i64([batch, length, HEADS, HEAD_SIZE]))])], { perm: attrs.ints(perm) });
      const scores = b.op1('onnx.Div', [b.op1('onnx.MatMul', [heads(q!, [0, 2, 1, 3]), heads(k!, [0, 2, 3, 1])]), b.constant(Tensor.scalar('float32', Math.sqrt(HEAD_SIZE)))]);
      const weights = b.op1('onnx.Softmax', [scores], { axis: attrs.int(-1) });
      const attended = b.op1('onnx.MatMul', [weights, heads(v!, [0, 2, 1, 3])]);
      const merged = b.op1('onnx.Reshape', [b.op1('onnx.Transpose', [attended], { perm: attrs.ints([0, 2, 1, 3]) }), b.constant(i64([batch, length, EMBED]))]);
      return b.op1('onnx.Add', [x, conv1d(b, merged, [batch, length, EMBED], EMBED, 11, testCase.transB)]);
    },
  });
}

const cases: readonly Gpt2Case[] = [
  { name: 'batch 1, opset 14', batch: 1, length: 6, opset: 14 },
  { name: 'batch 2, opset 13', batch: 2, length: 5, opset: 13 },
  { name: 'batch 3, opset 11 (Split sizes as an attribute), out-projection transB', batch: 3, length: 4, opset: 11, transB: true },
];

describe("legalize-tflite: GPT-2's attention (Conv1D as flattened Gemm, Split q/k/v) without transposes", () => {
  for (const testCase of cases) {
    it(testCase.name, async () => {
      const original = gpt2Attention(testCase);
      const converted = gpt2Attention(testCase);
      const statistics = await legalize(converted);
      expect(countTransposes(converted.graph)).toEqual({ inner: 0, boundary: 0 });
      expect(statistics.get('transposes-inside')).toBe(0);
      const ops = converted.graph.nodeList().map((node) => node.op);
      expect(ops.filter((op) => op === 'tflite.BATCH_MATMUL').length).toBeGreaterThanOrEqual(2);
      const differences = await compareInRuntimes(original, converted, feedsFor(original, 5));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-4);
    });
  }
});
