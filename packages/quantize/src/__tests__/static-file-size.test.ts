/**
 * The smallest int8 files in QDQ form, each ≤ 0.26× of the fp32 file with accuracy within 0.3 pp on
 * the 10k Fashion-MNIST test images, and every QDQ group still fused by ORT:
 * - fashion-resnet: `names=short per-channel-min-gain=20` (per-tensor weights: the per-channel
 *   scales alone are 0.009× of the fp32 file, more than the room left above the int8 weights);
 * - fashion-transformer: the same plus `float-constants-min-elements=64`, which stores its LayerNorm
 *   scales/shifts and bias vectors (64–192 values) as int8 behind a DequantizeLinear (20 constants
 *   with the positional embedding).
 * `integer-data-movement=true` (Flatten, Reshape, Transpose without their Q/DQ pair) and unnamed
 * nodes are part of what gets them there (without the former: +93 / +376 bytes, still ≤ 0.26×).
 * Checked by ONNX's checker.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeOnnx } from '@modelpass/onnx';
import { checkWithOnnx, fileSize, fixturePath, ortFusion, readFixture, requireReferees, runPipeline, testAccuracy } from './static-helpers.js';

const CASES = [
  { fixture: 'fashion-resnet', options: 'names=short per-channel-min-gain=20 integer-data-movement=true', floatConstants: 0 },
  { fixture: 'fashion-transformer', options: 'names=short per-channel-min-gain=20 float-constants-min-elements=64 integer-data-movement=true', floatConstants: 20 },
] as const;

describe('quantize-static: int8 files ≤ 0.26× fp32', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantize-static-size-'));

  it.each(CASES)('$fixture with $options', async ({ fixture, options, floatConstants }) => {
    requireReferees();
    const model = readFixture(fixture);
    const statistics = await runPipeline(model, `simplify,quantize-static{dataset=fashion-mnist:train samples=128 calibration=percentile ${options}}`);
    expect(statistics['quantize-static']!['float-constants-quantized'] ?? 0).toBe(floatConstants);
    const path = join(dir, `${fixture}.onnx`);
    writeOnnx(model, path);
    checkWithOnnx(path);
    const ratio = fileSize(path) / fileSize(fixturePath(fixture));
    const [fp32, int8] = [await testAccuracy(fixturePath(fixture)), await testAccuracy(path)];
    console.log(`${fixture} {${options}}: ${fileSize(path)} bytes, ${ratio.toFixed(4)}× fp32; accuracy ${(fp32 * 100).toFixed(2)}% → ${(int8 * 100).toFixed(2)}%`);
    expect(ratio).toBeLessThanOrEqual(0.26);
    expect(Math.abs(fp32 - int8) * 100).toBeLessThanOrEqual(0.3);
    expect((await ortFusion(path)).unfused).toEqual([]);
  }, 300_000);
});
