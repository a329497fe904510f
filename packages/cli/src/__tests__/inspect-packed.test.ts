import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseModel } from '@modelpass/ir';
import { encodeOnnx, readOnnx } from '@modelpass/onnx';
import { describeModel } from '@modelpass/report';
import { repoRoot, runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-inspect-packed-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

interface Summary {
  parameters: number;
  bytes: number;
  packed?: Record<string, { constants: number; weights: number; bytes: number }>;
  layers: { node: string; parameters: number }[];
}

/** A 4-bit MatMulNBits (K 32, N 4: 128 weights in 64 bytes) and a 4-bit GatherBlockQuantized table (10 × 32: 320 weights in 160 bytes). */
const PACKED = `model ir_version=8 opsets{onnx=17, com.microsoft=1} {
graph @main(%x: float32[1,32], %ids: int64[3]) {
  const %b = tensor<uint8[4,1,16]> hex"${'11'.repeat(64)}"
  const %s = tensor<float32[4]> [1, 1, 1, 1]
  const %table = tensor<uint8[10,16]> hex"${'22'.repeat(160)}"
  const %table_scales = tensor<float32[10,2]> [${new Array(20).fill(0.5).join(', ')}]
  %y: float32[1,4] = com.microsoft.MatMulNBits(%x, %b, %s) {K=32, N=4, bits=4, block_size=32} name="fc"
  %e: float32[3,32] = com.microsoft.GatherBlockQuantized(%table, %ids, %table_scales) {bits=4, block_size=16, gather_axis=0, quantize_axis=1} name="embed"
  return %y, %e
}
}`;

describe('inspect on 4-bit packed weights', () => {
  it('counts MatMulNBits and GatherBlockQuantized weights as the weights they hold, like @modelpass/report, and says they are 4-bit packed', async () => {
    const path = join(temp, 'packed.onnx');
    writeFileSync(path, encodeOnnx(parseModel(PACKED)));
    const summary = JSON.parse((await runCli(['inspect', path, '--json'])).stdout) as Summary;
    // 128 + 320 weights, 4 + 20 scales (stored: 64 + 160 bytes of codes).
    expect(summary.parameters).toBe(128 + 4 + 320 + 20);
    expect(summary.parameters).toBe(describeModel(readOnnx(path)).parameters);
    expect(summary.bytes).toBe(64 + 160 + 4 * 24);
    expect(summary.packed).toEqual({ '4': { constants: 2, weights: 448, bytes: 224 } });
    expect(summary.layers.find((layer) => layer.node === 'fc')?.parameters).toBe(128 + 4);
    const text = (await runCli(['inspect', path])).stdout;
    expect(text).toMatch(/^parameters: 472 /m);
    expect(text).toMatch(/4-bit packed: 448 weights in 224 B \(2 constant\(s\)\)/);
  });

  it('counts a quantize-weights{bits=4} model at least as many parameters as the float model it came from', async () => {
    const float = join(repoRoot, 'fixtures/models/fashion-mlp/model.onnx');
    const quantized = join(temp, 'mlp-4bit.onnx');
    expect((await runCli(['convert', float, '-o', quantized, '-p', 'quantize-weights{bits=4}'])).code).toBe(0);
    const before = JSON.parse((await runCli(['inspect', float, '--json'])).stdout) as Summary;
    const after = JSON.parse((await runCli(['inspect', quantized, '--json'])).stdout) as Summary;
    expect(after.packed?.['4']?.constants).toBeGreaterThan(0);
    // The same weights plus their scales (and zero points), never about half of them.
    expect(after.parameters).toBeGreaterThanOrEqual(before.parameters);
    expect(after.parameters).toBeLessThan(before.parameters * 1.25);
    expect(after.parameters).toBe(describeModel(readOnnx(quantized)).parameters);
  });
});
