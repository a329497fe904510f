/**
 * timm/DeiT's packed-qkv attention (issue 12, s17): `x @ W[E, 3E] + b` → Reshape `[B, N, 3, H, hd]` → Transpose
 * `[2,0,3,1,4]` → q, k, v by Gathers of axis 0 (`qkv[0]`…) or a Split into ones and Squeezes (`unbind(0)`), keys
 * `transpose(-2, -1)`, the merge `[0,2,1,3]` → Reshape → `proj`. prepare rewrites the packed split into the head split
 * attention-heads.ts matches, so legalize-tflite leaves no TRANSPOSE (it left 3 per attention before); the prepared
 * graph computes what the original did (reference interpreter).
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Dim, type TensorType, type Model, type Value } from '@modelpass/ir';
import { createOpRegistry, inferShapes, runReference } from '@modelpass/ops';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { transformPasses } from '@modelpass/transforms';
import { countTransposes, registerTfliteDialect, tflitePasses } from '../../index.js';
import { prepareCanonicalForTflite } from '../prepare.js';

const registry = registerTfliteDialect(createOpRegistry());
const EMBED = 16;
const HEADS = 4;
const HEAD_SIZE = EMBED / HEADS;
const LENGTH = 5;

/** Deterministic values in [-0.5, 0.5). */
function seeded(shape: readonly number[], seed: number): Tensor {
  let state = seed * 7919 + 1;
  const size = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: size }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  });
  return Tensor.fromValues('float32', shape, values);
}

const i64 = (values: readonly number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

interface PackedCase {
  readonly batch: Dim;
  readonly opset: number;
  /** How q, k, v are taken from the packed [3, B, H, N, hd]. */
  readonly parts: 'gather' | 'unbind';
  /** The packed value is x itself, not a projection (left alone). */
  readonly unprojected?: boolean;
}

function packedAttention({ batch, opset, parts, unprojected }: PackedCase): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [batch, LENGTH, unprojected ? 3 * EMBED : EMBED]));
  const packed = unprojected ? x : b.op1('onnx.Add', [b.constant(seeded([3 * EMBED], 2)), b.op1('onnx.MatMul', [x, b.constant(seeded([EMBED, 3 * EMBED], 1))])]);
  const split = b.op1('onnx.Reshape', [packed, b.constant(i64([typeof batch === 'number' ? batch : 0, LENGTH, 3, HEADS, HEAD_SIZE]))]);
  const qkv = b.op1('onnx.Transpose', [split], { perm: attrs.ints([2, 0, 3, 1, 4]) });
  let q: Value, k: Value, v: Value;
  if (parts === 'gather') {
    [q, k, v] = [0, 1, 2].map((c) => b.op1('onnx.Gather', [qkv, b.constant(Tensor.fromValues('int64', [], [BigInt(c)]))], { axis: attrs.int(0) })) as [Value, Value, Value];
  } else {
    const ones = b.op('onnx.Split', [qkv, b.constant(i64([1, 1, 1]))], { axis: attrs.int(0) }, { outputs: 3 });
    [q, k, v] = ones.map((one) => b.op1('onnx.Squeeze', [one!, b.constant(i64([0]))])) as [Value, Value, Value];
  }
  const keys = b.op1('onnx.Transpose', [k], { perm: attrs.ints([0, 1, 3, 2]) });
  const scores = b.op1('onnx.Mul', [b.op1('onnx.MatMul', [q, keys]), b.constant(Tensor.scalar('float32', HEAD_SIZE ** -0.5))]);
  const attended = b.op1('onnx.MatMul', [b.op1('onnx.Softmax', [scores], { axis: attrs.int(-1) }), v]);
  const merged = b.op1('onnx.Reshape', [b.op1('onnx.Transpose', [attended], { perm: attrs.ints([0, 2, 1, 3]) }), b.constant(i64([typeof batch === 'number' ? batch : 0, LENGTH, EMBED]))]);
  b.output(b.op1('onnx.Add', [b.op1('onnx.MatMul', [merged, b.constant(seeded([EMBED, EMBED], 3))]), b.constant(seeded([EMBED], 4))], {}, { outputs: ['y'] }));
  const model = b.model({ onnx: opset });
  inferShapes(model, { registry, mode: 'refresh' });
  return model;
}

function outputOf(model: Model, x: Tensor): number[] {
  return (runReference(model, { x }).get('y') as Tensor).toNumbers();
}

async function legalize(model: Model): Promise<void> {
  const environment = new PassEnvironment({ ops: registry });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  environment.passes.register(tflitePasses, '@modelpass/tflite');
  await new PassManager({ environment }).run(model, 'legalize-tflite');
}

const cases: readonly (PackedCase & { name: string })[] = [
  { name: 'qkv[0], qkv[1], qkv[2] (Gathers), batch 2, opset 13', batch: 2, opset: 13, parts: 'gather' },
  { name: 'unbind(0) (Split into ones, Squeezes), batch 3, opset 17', batch: 3, opset: 17, parts: 'unbind' },
  { name: 'Gathers, a symbolic batch, opset 14', batch: 'B', opset: 14, parts: 'gather' },
];

describe('prepare: packed qkv (timm/DeiT ViT attention) as the head split', () => {
  for (const testCase of cases) {
    it(`${testCase.name}: the packed split is gone, the keys keep only their swap, same values`, () => {
      const original = packedAttention(testCase);
      const prepared = packedAttention(testCase);
      prepareCanonicalForTflite(prepared);
      const ops = prepared.graph.nodeList().map((node) => node.op);
      expect(ops).not.toContain('onnx.Gather');
      // No packed [B, N, 3, H, hd] / [3, B, H, N, hd] value is left (the merge's own Split of the heads is rank 4).
      expect(prepared.graph.nodeList().flatMap((node) => node.outputs).filter((value) => value && (value.type as TensorType).shape?.length === 5)).toEqual([]);
      const perms = prepared.graph.nodeList().filter((node) => node.op === 'onnx.Transpose').map((node) => node.attr('perm', 'ints').map(Number).join(','));
      expect(perms).toEqual(['0,1,3,2']);
      const x = seeded([typeof testCase.batch === 'number' ? testCase.batch : 2, LENGTH, EMBED], 9);
      const expected = outputOf(original, x);
      const actual = outputOf(prepared, x);
      expect(actual.length).toBe(expected.length);
      for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(1e-5);
    });

    it(`${testCase.name}: legalize-tflite leaves no TRANSPOSE`, async () => {
      const model = packedAttention(testCase);
      await legalize(model);
      expect(countTransposes(model.graph)).toEqual({ inner: 0, boundary: 0 });
    });
  }

  it('a packed value that is not a projection by a constant is left alone (three transposes would replace one)', () => {
    const model = packedAttention({ batch: 2, opset: 13, parts: 'gather', unprojected: true });
    prepareCanonicalForTflite(model);
    const perms = model.graph.nodeList().filter((node) => node.op === 'onnx.Transpose').map((node) => node.attr('perm', 'ints').map(Number).join(','));
    expect(perms).toContain('2,0,3,1,4');
    expect(model.graph.nodeList().filter((node) => node.op === 'onnx.Gather')).toHaveLength(3);
  });
});
