import { parseModel, printModel } from '@modelpass/ir';
import { compareModels } from '@modelpass/runtime';
import { describe, expect, it } from 'vitest';
import { goldenCases, runCase } from './fixtures.js';

const cases = goldenCases();

describe('golden fixtures (transformPasses + the plugin through a PassManager)', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThanOrEqual(5));

  for (const testCase of cases) {
    describe(testCase.name, () => {
      it(`'${testCase.options.pipeline}' gives output.mpir, with the expected statistics and warnings`, async () => {
        const run = await runCase(testCase);
        expect(testCase.expected, `${testCase.name}/output.mpir is missing (UPDATE_GOLDEN=1 writes it)`).toBeDefined();
        expect(run.output).toBe(printModel(parseModel(testCase.expected!)));
        for (const [pass, expected] of Object.entries(testCase.options.statistics ?? {})) {
          expect(run.statistics[pass], `statistics of ${pass}`).toMatchObject(expected);
        }
        const expectedWarnings = testCase.options.warnings ?? [];
        expect(run.warnings.length).toBe(expectedWarnings.length);
        expectedWarnings.forEach((text, index) => expect(run.warnings[index]!.reason).toContain(text));
      });

      it('keeps every output bit-identical in ONNX Runtime', async () => {
        const before = parseModel(testCase.input);
        const after = parseModel(testCase.expected ?? testCase.input);
        const ranges = Object.fromEntries(before.graph.inputs.map((input) => [input.name, [-8, 8] as const]));
        const comparison = await compareModels(before, after, { seed: 7, ranges, atol: 0, rtol: 0 });
        expect(comparison.missingOutputs).toEqual([]);
        expect(comparison.maxAbsError).toBe(0);
        expect(comparison.withinTolerance).toBe(true);
      });
    });
  }
});
