/**
 * Per-channel or per-tensor weights by SQNR (`per-channel-min-gain`): on tensors made here, equal
 * channel ranges buy nothing from per-channel scales and channels 100× apart buy a lot; on
 * fashion-cnn every layer gains ≥ 1.6 dB, so the default (1 dB) keeps all per channel, and a
 * threshold above every gain makes all per tensor: a smaller file that ONNX's checker accepts, ORT
 * fuses entirely, and whose accuracy stays within 0.3 pp of fp32.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tensor } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { PER_CHANNEL_MIN_GAIN_DB, perChannelPaysOff, weightSqnrDb } from '@modelpass/quantize';
import { checkWithOnnx, fileSize, fixturePath, ortFusion, readFixture, requireReferees, runPipeline, testAccuracy } from './static-helpers.js';

/** A [channels, 64] weight whose channel c spans ±ranges[c] (a seeded pseudo-random pattern). */
function weight(ranges: readonly number[]): Tensor {
  const values: number[] = [];
  let state = 12345;
  for (const range of ranges) {
    for (let k = 0; k < 64; k++) {
      state = (state * 1103515245 + 12345) % 2147483648;
      values.push(k === 0 ? range : range * (2 * (state / 2147483648) - 1));
    }
  }
  return Tensor.fromValues('float32', [ranges.length, 64], values);
}

describe('quantize-static{per-channel-min-gain}', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantize-static-granularity-'));

  it('per channel pays off only when channel ranges differ', () => {
    const equal = weight([1, 1, 1, 1]);
    expect(Math.abs(weightSqnrDb(equal, 0) - weightSqnrDb(equal, undefined))).toBeLessThan(1e-9);
    expect(perChannelPaysOff(equal, 0, PER_CHANNEL_MIN_GAIN_DB)).toBe(false);
    const spread = weight([1, 0.01, 0.5, 0.02]);
    // One scale for ranges 100x apart leaves the small channels a few levels: several dB lost (the large channels dominate the signal).
    expect(weightSqnrDb(spread, 0) - weightSqnrDb(spread, undefined)).toBeGreaterThan(3);
    expect(perChannelPaysOff(spread, 0, PER_CHANNEL_MIN_GAIN_DB)).toBe(true);
    expect(perChannelPaysOff(equal, 0, 0)).toBe(true);
  });

  it('fashion-cnn: default keeps every layer per channel; a threshold above every gain gives per-tensor weights, smaller, fused, accurate', async () => {
    requireReferees();
    const pipeline = (gain: string) => `simplify,quantize-static{dataset=fashion-mnist:train samples=256 ${gain}}`;
    const perChannel = readFixture('fashion-cnn');
    await runPipeline(perChannel, pipeline(''));
    const perTensor = readFixture('fashion-cnn');
    await runPipeline(perTensor, pipeline('per-channel-min-gain=20'));
    const weightScales = (model: typeof perChannel) =>
      [...model.graph.nodesOf('onnx.DequantizeLinear')].filter((dq) => dq.input(0).constant?.dtype === 'int8').map((dq) => dq.input(1).constant!.size);
    expect(weightScales(perChannel).every((size) => size > 1)).toBe(true);
    expect(weightScales(perTensor)).toEqual(weightScales(perChannel).map(() => 1));
    const a = join(dir, 'per-channel.onnx');
    const b = join(dir, 'per-tensor.onnx');
    writeOnnx(perChannel, a);
    writeOnnx(perTensor, b);
    checkWithOnnx(b);
    expect((await ortFusion(b)).unfused).toEqual([]);
    // Scales of 32 + 64 + 10 channels (weight and bias, 4 bytes each) and the weights' per-channel zero points.
    expect(fileSize(a) - fileSize(b)).toBeGreaterThan(500);
    const fp32 = await testAccuracy(fixturePath('fashion-cnn'));
    expect(Math.abs(fp32 - (await testAccuracy(b))) * 100).toBeLessThanOrEqual(0.3);
  }, 300_000);
});
