/**
 * Data-movement ops on the integers (integer-data-movement.ts): `DQ(q) → Reshape/Transpose/Flatten
 * → Q(same scale, zero point)` becomes the op on q itself, two nodes fewer and the same codes. Checked
 * in ONNX Runtime on a Transpose → Reshape chain before a QDQ MatMul (bit-identical outputs, ONNX's
 * checker accepts the file); a Q with another scale is left alone; and on fashion-resnet end to end
 * with `integer-data-movement=true` (its Flatten before the Gemm reads uint8, ORT still fuses QGemm;
 * without the option the Q/DQ pair stays, as distill's fake-quantized training needs).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModel, Tensor, type Model } from '@modelpass/ir';
import { encodeOnnx, writeOnnx } from '@modelpass/onnx';
import { dataMovementOnIntegers } from '@modelpass/quantize';
import { OrtRunner } from '@modelpass/runtime';
import { checkWithOnnx, ortFusion, readFixture, requireReferees, runPipeline } from './static-helpers.js';

/** x → Q → DQ → Transpose → Q → DQ → Reshape → Q(`reshapeScale`) → DQ → MatMul(DQ(W)) → y. */
function chain(reshapeScale: number): Model {
  const weights = Array.from({ length: 24 }, (_, i) => ((i * 37) % 255) - 127);
  return parseModel(`model ir_version=8 opsets{onnx=13} {
graph @main(%x: float32[2,3,4]) {
  const %s = tensor<float32[]> [0.05]
  const %z = tensor<uint8[]> [128]
  const %s2 = tensor<float32[]> [${reshapeScale}]
  const %shape = tensor<int64[2]> [2, 12]
  const %w = tensor<int8[12,2]> [${weights.join(', ')}]
  const %ws = tensor<float32[]> [0.01]
  const %wz = tensor<int8[]> [0]
  %q0: uint8[2,3,4] = onnx.QuantizeLinear(%x, %s, %z) name="q0"
  %d0: float32[2,3,4] = onnx.DequantizeLinear(%q0, %s, %z) name="d0"
  %t: float32[2,4,3] = onnx.Transpose(%d0) {perm=[0, 2, 1]} name="transpose"
  %q1: uint8[2,4,3] = onnx.QuantizeLinear(%t, %s, %z) name="q1"
  %d1: float32[2,4,3] = onnx.DequantizeLinear(%q1, %s, %z) name="d1"
  %r: float32[2,12] = onnx.Reshape(%d1, %shape) name="reshape"
  %q2: uint8[2,12] = onnx.QuantizeLinear(%r, %s2, %z) name="q2"
  %d2: float32[2,12] = onnx.DequantizeLinear(%q2, %s2, %z) name="d2"
  %dw: float32[12,2] = onnx.DequantizeLinear(%w, %ws, %wz) name="dw"
  %y: float32[2,2] = onnx.MatMul(%d2, %dw) name="matmul"
  return %y
}
}`);
}

const input = () => Tensor.fromValues('float32', [2, 3, 4], Float32Array.from({ length: 24 }, (_, i) => Math.sin(i * 1.3) * 5));

async function run(model: Model): Promise<number[]> {
  const runner = new OrtRunner({ maxSessions: 1 });
  try {
    return [...(await runner.run(encodeOnnx(model), { x: input() })).values()][0]!.toNumbers();
  } finally {
    await runner.dispose();
  }
}

describe('data-movement ops on the integers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantize-integer-movement-'));

  it('moves a Transpose and a Reshape between equal Q/DQ params onto the codes: same outputs in ORT, two nodes fewer each', async () => {
    requireReferees();
    const reference = chain(0.05);
    const rewritten = chain(0.05);
    expect(dataMovementOnIntegers(rewritten.graph).map((entry) => [entry.node.name, entry.replaced])).toEqual([
      ['transpose', 'q1'],
      ['reshape', 'q2'],
    ]);
    expect([...rewritten.graph.nodes()].map((node) => node.name)).toEqual(['q0', 'transpose', 'reshape', 'd2', 'dw', 'matmul']);
    const reshape = [...rewritten.graph.nodes()].find((node) => node.name === 'reshape')!;
    expect(reshape.input(0).producer?.name).toBe('transpose');
    expect(reshape.output(0).type).toMatchObject({ dtype: 'uint8' });
    expect(await run(rewritten)).toEqual(await run(reference));
    const path = join(dir, 'chain.onnx');
    writeOnnx(rewritten, path);
    checkWithOnnx(path);
  });

  it('leaves the op float when the QuantizeLinear after it has another scale', () => {
    const model = chain(0.07);
    expect(dataMovementOnIntegers(model.graph).map((entry) => entry.node.name)).toEqual(['transpose']);
    expect([...model.graph.nodes()].map((node) => node.name)).toContain('d1');
  });

  it('fashion-resnet: the Flatten before the Gemm reads uint8 and ORT still fuses every group', async () => {
    requireReferees();
    const model = readFixture('fashion-resnet');
    await runPipeline(model, 'simplify,quantize-static{samples=16 integer-data-movement=true}');
    const flatten = [...model.graph.nodes()].find((node) => node.op === 'onnx.Flatten')!;
    expect(flatten.input(0).producer?.op).toBe('onnx.QuantizeLinear');
    expect(flatten.output(0).type).toMatchObject({ dtype: 'uint8' });
    const path = join(dir, 'resnet.onnx');
    writeOnnx(model, path);
    checkWithOnnx(path);
    const { ops, unfused } = await ortFusion(path);
    expect(unfused).toEqual([]);
    expect(ops).toContain('QGemm');
    const byDefault = readFixture('fashion-resnet');
    await runPipeline(byDefault, 'simplify,quantize-static{samples=16}');
    expect([...byDefault.graph.nodes()].find((node) => node.op === 'onnx.Flatten')!.input(0).producer?.op).toBe('onnx.DequantizeLinear');
  }, 120_000);
});
