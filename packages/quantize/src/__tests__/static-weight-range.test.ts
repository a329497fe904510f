/**
 * `weight-range`: `restricted` (default) quantizes symmetric int8 weights on ±127 with scale
 * absmax/127; `full` uses PyTorch's per_channel_symmetric grid, scale absmax/127.5 over [-128, 127].
 * On fashion-mlp: every full-range weight scale is the restricted one × 127/127.5, the codes reach
 * −128 where a channel's largest magnitude is negative, every code dequantizes to within half a step
 * of its float weight (a step at +absmax, which saturates to 127), ONNX's checker accepts the file,
 * ORT fuses every group and the accuracy stays within 0.3 pp of fp32. materialize=false (the typed
 * IR TFLite export reads, whose int8 weights must stay in [-127, 127]) refuses `full`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Model } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { checkWithOnnx, fixturePath, ortFusion, readFixture, requireReferees, runPipeline, testAccuracy } from './static-helpers.js';

/** Per int8 weight (by its value name): its codes and scales, from the DequantizeLinear reading it. */
function int8Weights(model: Model): Map<string, { codes: ArrayLike<number>; scales: number[] }> {
  const found = new Map<string, { codes: ArrayLike<number>; scales: number[] }>();
  for (const dq of model.graph.nodesOf('onnx.DequantizeLinear')) {
    const values = dq.input(0);
    if (values.constant?.dtype !== 'int8') continue;
    found.set(values.name, { codes: values.constant.toNumbers(), scales: Array.from(dq.input(1).constant!.toNumbers()) });
  }
  return found;
}

describe('quantize-static{weight-range}', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantize-static-weight-range-'));
  const pipeline = (range: string) => `simplify,quantize-static{dataset=fashion-mnist:train samples=64 ${range}}`;

  it('full: PyTorch\'s grid (absmax/127.5, codes down to -128), close to the float weights, fused and accurate in ORT', async () => {
    requireReferees();
    const float = readFixture('fashion-mlp');
    const floatWeights = new Map([...float.graph.nodesOf('onnx.Gemm')].map((gemm) => [gemm.input(1).name, gemm.input(1).constant!]));
    const restricted = readFixture('fashion-mlp');
    await runPipeline(restricted, pipeline(''));
    const full = readFixture('fashion-mlp');
    await runPipeline(full, pipeline('weight-range=full'));
    const before = int8Weights(restricted);
    const after = int8Weights(full);
    expect([...after.keys()].sort()).toEqual([...floatWeights.keys()].sort());
    let lowest = 0;
    for (const [name, { codes, scales }] of after) {
      const restrictedScales = before.get(name)!.scales;
      scales.forEach((s, c) => expect(s).toBeCloseTo(Math.fround((restrictedScales[c]! * 127) / 127.5), 9));
      // Gemm weights here are [out, in] (transB=1): channel c is row c.
      const weight = floatWeights.get(name)!;
      const values = weight.toNumbers();
      const columns = weight.shape[1]!;
      for (let i = 0; i < values.length; i++) {
        const step = scales.length === 1 ? scales[0]! : scales[Math.floor(i / columns)]!;
        lowest = Math.min(lowest, codes[i]!);
        expect(codes[i]!).toBeGreaterThanOrEqual(-128);
        expect(codes[i]!).toBeLessThanOrEqual(127);
        expect(Math.abs(codes[i]! * step - values[i]!)).toBeLessThanOrEqual(step * (codes[i] === 127 ? 1 : 0.5) * (1 + 1e-5));
      }
    }
    expect(lowest).toBe(-128);
    const path = join(dir, 'full.onnx');
    writeOnnx(full, path);
    checkWithOnnx(path);
    expect((await ortFusion(path)).unfused).toEqual([]);
    const fp32 = await testAccuracy(fixturePath('fashion-mlp'));
    expect(Math.abs(fp32 - (await testAccuracy(path))) * 100).toBeLessThanOrEqual(0.3);
  }, 300_000);

  it('full with materialize=false (the typed IR for TFLite) is refused, naming the option', async () => {
    const model = readFixture('fashion-mlp');
    await expect(runPipeline(model, 'quantize-static{dataset=fashion-mnist:train samples=32 materialize=false weight-range=full}')).rejects.toThrow(/weight-range=full needs materialize=true/);
  });
});
