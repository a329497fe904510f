/**
 * Golden text-IR cases of quantize-static's placement (fixtures/quantize-static/<case>/): Conv+Relu
 * with MaxPool/Flatten sharing scales, a residual Add (QLinearAdd) with GlobalAveragePool, Concat
 * of two branches, float-only ops (Tanh, Sigmoid without a quantized producer) left alone, and a
 * model without weights declined (those cases set min-conv-reduction=0 to quantize their tiny Convs);
 * the cost rule: a 1-channel stem Conv left float with its Relu → MaxPool run as MaxPool → Relu, and
 * not reordered when the Relu's output is also a graph output. Calibration is 8 seeded random samples (the warning is expected).
 * Each quantized golden is also exported and run in ONNX Runtime against the float input: outputs'
 * cosine ≥ 0.99. `UPDATE_GOLDENS=1` rewrites output.mpir.
 */
import { expect } from 'vitest';
import { Tensor, type Model } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { quantizePasses } from '@modelpass/quantize';
import { generateInputs, OrtRunner } from '@modelpass/runtime';
import { runGoldenCases, type GoldenRun } from '@modelpass/testing';
import { transformPasses } from '@modelpass/transforms';
import { cosine } from './weights-helpers.js';

async function outputs(model: Model, feeds: Map<string, Tensor>): Promise<number[]> {
  const runner = new OrtRunner({ maxSessions: 1 });
  try {
    const result = await runner.run(encodeOnnx(model), Object.fromEntries(feeds));
    return [...result.values()].flatMap((t) => t.toNumbers());
  } finally {
    await runner.dispose();
  }
}


async function checkInOrt(run: GoldenRun): Promise<void> {
  if (run.testCase.declines) return;
  const feeds = generateInputs(run.input, { seed: 3 });
  const expected = await outputs(run.input, feeds);
  const actual = await outputs(run.output, feeds);
  expect(actual).toHaveLength(expected.length);
  expect(cosine(expected, actual)).toBeGreaterThanOrEqual(0.99);
}

runGoldenCases({
  dir: new URL('../../fixtures', import.meta.url),
  passes: [...transformPasses, ...quantizePasses],
  requireCasesFor: ['quantize-static'],
  check: checkInOrt,
});
