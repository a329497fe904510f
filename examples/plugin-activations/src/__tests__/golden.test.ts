/**
 * Every `fixtures/<case>/` through @modelpass/testing's golden harness, with the built-in passes and
 * this plugin (what `modelpass --plugin` sets up): its `options.json` names the pipeline, the
 * statistics and the warnings; the printed result must equal `output.mpir`. Beyond the text, ONNX
 * Runtime runs the input and the output on the same random inputs, and they must agree bit for bit.
 * `UPDATE_GOLDENS=1 npx vitest run golden` rewrites the outputs (review the diff).
 */
import { compareModels } from '@modelpass/runtime';
import { runGoldenCases, type GoldenRun } from '@modelpass/testing';
import { transformPasses } from '@modelpass/transforms';
import { expect } from 'vitest';
import plugin from '@modelpass-examples/plugin-activations';
import { FIXTURES } from './fixtures.js';

async function expectBitIdenticalInOnnxRuntime({ input, output }: GoldenRun): Promise<void> {
  const ranges = Object.fromEntries(input.graph.inputs.map((value) => [value.name, [-8, 8] as const]));
  const comparison = await compareModels(input, output, { seed: 7, ranges, atol: 0, rtol: 0 });
  expect(comparison.missingOutputs).toEqual([]);
  expect(comparison.maxAbsError).toBe(0);
  expect(comparison.withinTolerance).toBe(true);
}

const cases = runGoldenCases({
  title: 'golden fixtures (transformPasses + the plugin through a PassManager)',
  dir: FIXTURES,
  passes: transformPasses,
  plugin,
  check: expectBitIdenticalInOnnxRuntime,
});

if (cases.length < 5) throw new Error(`expected at least 5 golden cases in ${FIXTURES}, found ${cases.length}`);
