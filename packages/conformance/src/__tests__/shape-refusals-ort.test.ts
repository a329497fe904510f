/**
 * Shape rules that refuse impossible inputs, against ONNX Runtime (s17: a Reshape of [1,4] to [3,-1] inferred
 * [3,1.3333333333333333], a Concat of ranks 2 and 1 inferred [1,7], a Squeeze of a size-4 axis inferred a shape).
 * Each tiny model below is refused by ORT — at load when every dim is known there, at run for the two it only checks
 * then (Conv channels, a Reshape count without -1) — and modelpass names the node with the check's code: the
 * verifier as the model is read (what convert runs before any pass), or inferShapes where the operand is computed
 * in the graph. The same models with a symbolic dim load in ORT and are not refused here (left to run time).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { parseModel, verifyModel, type Model } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import type * as ortTypes from 'onnxruntime-node';

const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof ortTypes;
const registry = createOpRegistry();
const dir = mkdtempSync(join(tmpdir(), 'modelpass-shape-refusals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A model of `inputs` and the node lines `body` (the checked node is named "n"), output %y, at `opset`. */
function model(inputs: string, body: string, opset = 17): Model {
  return parseModel(`model ir_version=8 opsets{onnx=${opset}} {
graph @main(${inputs}) {
${body}
  return %y
}
}`);
}

/** Where ORT refuses the model: 'load', 'run' (fed zeros, symbolic dims as 1), or 'runs'. */
async function ortVerdict(name: string, m: Model): Promise<'load' | 'run' | 'runs'> {
  const path = join(dir, `${name}.onnx`);
  writeFileSync(path, encodeOnnx(m));
  let session: ortTypes.InferenceSession;
  try {
    session = await ort.InferenceSession.create(path, { logSeverityLevel: 4 });
  } catch {
    return 'load';
  }
  try {
    const feeds: Record<string, ortTypes.Tensor> = {};
    for (const input of m.graph.inputs.filter((value) => !value.constant)) {
      const type = input.type;
      if (type.kind !== 'tensor' || !type.shape) throw new Error(`input ${input.name} is not a ranked tensor`);
      const shape = type.shape.map((d) => (typeof d === 'number' ? d : 1));
      const size = shape.reduce((p, d) => p * d, 1);
      feeds[input.name] =
        type.dtype === 'int64'
          ? new ort.Tensor('int64', new BigInt64Array(size), shape)
          : type.dtype === 'bool'
            ? new ort.Tensor('bool', new Uint8Array(size), shape)
            : new ort.Tensor('float32', new Float32Array(size), shape);
    }
    await session.run(feeds);
    return 'runs';
  } catch {
    return 'run';
  } finally {
    await session.release();
  }
}

/** modelpass's errors on the model as read: the verifier's, then inferShapes' (which follows computed shapes). */
function refusals(m: Model): string[] {
  const verified = verifyModel(m, { registry }).filter((d) => d.severity === 'error');
  const inferred = inferShapes(m).diagnostics.filter((d) => d.severity === 'error');
  return [...verified, ...inferred].map((d) => `${d.code} ${d.location?.node}`);
}

const zero = 'const %zero = tensor<int64[]> [0]\n  const %three = tensor<int64[]> [3]\n  const %axis0 = tensor<int64[1]> [0]\n  const %minus_one = tensor<int64[1]> [-1]';
/** Reshape(x, Concat(Unsqueeze(Shape(x)[0] · 3), [-1])): a [3,-1] target computed in the graph. */
const computedTarget = `${zero}
  %s = onnx.Shape(%x) name="shape"
  %d = onnx.Gather(%s, %zero) {axis=0} name="first"
  %t = onnx.Mul(%d, %three) name="tripled"
  %u = onnx.Unsqueeze(%t, %axis0) name="row"
  %target = onnx.Concat(%u, %minus_one) {axis=0} name="target"
  %y = onnx.Reshape(%x, %target) name="n"`;

interface Case {
  readonly name: string;
  readonly inputs: string;
  readonly body: string;
  readonly opset?: number;
  /** Where ORT refuses it. */
  readonly ort: 'load' | 'run';
  readonly code: string;
}

const cases: Case[] = [
  { name: 'reshape-fractional', inputs: '%x: float32[1,4]', body: 'const %s = tensor<int64[2]> [3, -1]\n  %y = onnx.Reshape(%x, %s) name="n"', ort: 'load', code: 'ops/reshape-size' },
  { name: 'reshape-computed', inputs: '%x: float32[1,4]', body: computedTarget, ort: 'load', code: 'ops/reshape-size' },
  { name: 'reshape-zero-past-rank', inputs: '%x: float32[1,4]', body: 'const %s = tensor<int64[3]> [1, 4, 0]\n  %y = onnx.Reshape(%x, %s) name="n"', ort: 'load', code: 'ops/reshape-target' },
  { name: 'reshape-allowzero-minus-one', inputs: '%x: float32[0,4]', body: 'const %s = tensor<int64[2]> [0, -1]\n  %y = onnx.Reshape(%x, %s) {allowzero=1} name="n"', ort: 'load', code: 'ops/reshape-target' },
  { name: 'reshape-count', inputs: '%x: float32[1,4]', body: 'const %s = tensor<int64[2]> [3, 2]\n  %y = onnx.Reshape(%x, %s) name="n"', ort: 'run', code: 'ops/reshape-size' },
  { name: 'concat-ranks', inputs: '%a: float32[1,4], %b: float32[3]', body: '%ra = onnx.Relu(%a) name="ra"\n  %rb = onnx.Relu(%b) name="rb"\n  %y = onnx.Concat(%ra, %rb) {axis=0} name="n"', ort: 'load', code: 'ops/concat-rank' },
  { name: 'concat-dims', inputs: '%a: float32[1,4], %b: float32[2,3]', body: '%ra = onnx.Relu(%a) name="ra"\n  %y = onnx.Concat(%ra, %b) {axis=1} name="n"', ort: 'load', code: 'ops/concat-dims' },
  { name: 'squeeze-size-4', inputs: '%x: float32[1,4]', body: 'const %ax = tensor<int64[1]> [1]\n  %r = onnx.Relu(%x) name="r"\n  %y = onnx.Squeeze(%r, %ax) name="n"', ort: 'load', code: 'ops/squeeze-axis' },
  { name: 'unsqueeze-twice', inputs: '%x: float32[1,4]', body: 'const %ax = tensor<int64[2]> [1, 1]\n  %r = onnx.Relu(%x) name="r"\n  %y = onnx.Unsqueeze(%r, %ax) name="n"', ort: 'load', code: 'ops/unsqueeze-axes' },
  { name: 'transpose-perm', inputs: '%x: float32[1,4]', body: '%r = onnx.Relu(%x) name="r"\n  %y = onnx.Transpose(%r) {perm=[0, 0]} name="n"', ort: 'load', code: 'ops/transpose-perm' },
  { name: 'gather-axis', inputs: '%x: float32[1,4], %i: int64[2]', body: '%y = onnx.Gather(%x, %i) {axis=2} name="n"', ort: 'load', code: 'ops/axis-range' },
  { name: 'slice-axis', inputs: '%x: float32[1,4]', body: 'const %st = tensor<int64[1]> [0]\n  const %en = tensor<int64[1]> [1]\n  const %ax = tensor<int64[1]> [3]\n  %r = onnx.Relu(%x) name="r"\n  %y = onnx.Slice(%r, %st, %en, %ax) name="n"', ort: 'load', code: 'ops/axis-range' },
  { name: 'expand-shape', inputs: '%x: float32[3,4]', body: 'const %s = tensor<int64[2]> [2, 5]\n  %r = onnx.Relu(%x) name="r"\n  %y = onnx.Expand(%r, %s) name="n"', ort: 'load', code: 'ops/expand-shape' },
  { name: 'matmul-inner', inputs: '%a: float32[2,3], %b: float32[4,5]', body: '%ra = onnx.Relu(%a) name="ra"\n  %y = onnx.MatMul(%ra, %b) name="n"', ort: 'load', code: 'ops/matmul-inner-dim' },
  { name: 'matmul-batch', inputs: '%a: float32[2,3,4], %b: float32[3,4,5]', body: '%y = onnx.MatMul(%a, %b) name="n"', ort: 'load', code: 'ops/broadcast-shapes' },
  { name: 'conv-channels', inputs: '%x: float32[1,3,8,8], %w: float32[4,2,3,3]', body: '%r = onnx.Relu(%x) name="r"\n  %y = onnx.Conv(%r, %w) name="n"', ort: 'run', code: 'ops/conv-channels' },
  { name: 'split-sum', inputs: '%x: float32[1,4]', body: 'const %sp = tensor<int64[2]> [1, 2]\n  %r = onnx.Relu(%x) name="r"\n  %y, %z = onnx.Split(%r, %sp) {axis=1} name="n"', ort: 'load', code: 'ops/split-sizes' },
  { name: 'split-uneven', inputs: '%x: float32[1,4]', body: '%y, %z, %w = onnx.Split(%x) {axis=1} name="n"', opset: 13, ort: 'load', code: 'ops/split-sizes' },
  { name: 'tile-repeats', inputs: '%x: float32[1,4]', body: 'const %rep = tensor<int64[1]> [2]\n  %r = onnx.Relu(%x) name="r"\n  %y = onnx.Tile(%r, %rep) name="n"', ort: 'load', code: 'ops/tile-repeats' },
  { name: 'flatten-axis', inputs: '%x: float32[1,4]', body: '%r = onnx.Relu(%x) name="r"\n  %y = onnx.Flatten(%r) {axis=3} name="n"', ort: 'load', code: 'ops/axis-range' },
  { name: 'add-3-vs-4', inputs: '%a: float32[2,3], %b: float32[2,4]', body: '%ra = onnx.Relu(%a) name="ra"\n  %y = onnx.Add(%ra, %b) name="n"', ort: 'load', code: 'ops/broadcast-shapes' },
];

describe('impossible shapes: ONNX Runtime refuses each, modelpass names the node', () => {
  for (const c of cases) {
    it(`${c.name}: ORT refuses it at ${c.ort}; ${c.code} at node n`, async () => {
      const m = model(c.inputs, c.body, c.opset);
      expect(await ortVerdict(c.name, m)).toBe(c.ort);
      expect(refusals(model(c.inputs, c.body, c.opset))).toContain(`${c.code} n`);
    });
  }
});

describe('the same with a symbolic dim: ORT loads them, nothing is refused before run time', () => {
  const symbolic: [string, string, string][] = [
    ['reshape-fractional-symbolic', '%x: float32[N,4]', 'const %s = tensor<int64[2]> [3, -1]\n  %y = onnx.Reshape(%x, %s) name="n"'],
    ['reshape-computed-symbolic', '%x: float32[N,4]', computedTarget],
    ['squeeze-symbolic', '%x: float32[N,4]', 'const %ax = tensor<int64[1]> [0]\n  %r = onnx.Relu(%x) name="r"\n  %y = onnx.Squeeze(%r, %ax) name="n"'],
    ['add-symbolic', '%a: float32[2,N], %b: float32[2,4]', '%ra = onnx.Relu(%a) name="ra"\n  %y = onnx.Add(%ra, %b) name="n"'],
  ];
  for (const [name, inputs, body] of symbolic) {
    it(`${name}: loads in ORT, no error here`, async () => {
      expect(await ortVerdict(name, model(inputs, body))).not.toBe('load');
      expect(refusals(model(inputs, body))).toEqual([]);
    });
  }
});
