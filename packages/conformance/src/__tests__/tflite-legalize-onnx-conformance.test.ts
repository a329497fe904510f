/**
 * legalize-tflite over ONNX's node conformance cases, judged by the TFLite 2.9 runtime: every case
 * either is refused with a ModelpassError before anything changes (an op or attribute TFLite cannot
 * express), or converts and then reproduces ONNX's reference outputs (test_data_set_0) within 1e-4
 * (relative above 1). Nothing may crash. Prints how many convert and match.
 */
import { describe, expect, it } from 'vitest';
import { ModelpassError, printModel } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { loadTestDataSet, TfliteEngine } from '@modelpass/runtime';
import { lowerToTflite, prepareCanonicalForTflite, registerTfliteDialect } from '@modelpass/tflite';
import { listOnnxConformanceCases } from '../onnx-cases.js';

/** Cases whose converted model aborts the TFLite engine process (bool graph inputs fed to tfjs-tflite-node): a runtime issue, kept out so the worker survives. */
const ABORTS_THE_ENGINE = new Set(['test_where_example', 'test_where_long_example']);

describe('legalize-tflite on the ONNX node conformance cases', () => {
  it('refuses cleanly or matches the reference outputs in the TFLite runtime', async () => {
    const registry = registerTfliteDialect(createOpRegistry());
    const engine = new TfliteEngine();
    const figures = { cases: 0, converted: 0, matched: 0, refused: 0 };
    const failures: string[] = [];
    for (const testCase of listOnnxConformanceCases().filter((c) => c.suite === 'node' && !ABORTS_THE_ENGINE.has(c.name))) {
      let model;
      let data;
      try {
        model = readOnnx(testCase.modelPath);
        data = loadTestDataSet(`${testCase.dir}/test_data_set_0`, model);
      } catch {
        continue; // not importable or data the loader does not read: not this test's subject
      }
      figures.cases++;
      try {
        inferShapes(model, { registry, mode: 'refresh' });
        prepareCanonicalForTflite(model);
        inferShapes(model, { registry, mode: 'refresh' });
      } catch {
        continue; // inference of the canonical model itself: not legalization
      }
      const before = printModel(model, { elideConstantsLargerThan: 0 });
      try {
        lowerToTflite(model, registry, { ioLayout: 'nchw' });
      } catch (error) {
        if (!ModelpassError.is(error)) failures.push(`${testCase.name}: crashed: ${(error as Error).stack?.split('\n').slice(0, 2).join(' ')}`);
        else if (printModel(model, { elideConstantsLargerThan: 0 }) !== before) failures.push(`${testCase.name}: refused but changed the model`);
        figures.refused++;
        continue;
      }
      figures.converted++;
      try {
        const feeds = Object.fromEntries([...data.inputs].filter(([name]) => model.graph.inputs.some((v) => v.name === name)));
        const outputs = await engine.run(model, feeds);
        for (const [name, expected] of data.outputs) {
          const actual = outputs.get(name);
          if (!actual) throw new Error(`output '${name}' missing`);
          const want = expected.toNumbers();
          const got = actual.toNumbers();
          if (want.length !== got.length) throw new Error(`output '${name}' has ${got.length} elements, expected ${want.length}`);
          want.forEach((value, i) => {
            const same = Number.isNaN(value) ? Number.isNaN(got[i]!) : Math.abs(value - got[i]!) <= 1e-4 * Math.max(1, Math.abs(value));
            if (!same) throw new Error(`output '${name}'[${i}]: ${got[i]} instead of ${value}`);
          });
        }
        figures.matched++;
      } catch (error) {
        failures.push(`${testCase.name}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    console.log(`legalize-tflite on ONNX node cases: ${figures.cases} cases, ${figures.converted} converted, ${figures.matched} matched in TFLite 2.9, ${figures.refused} refused with a located error`);
    expect(failures).toEqual([]);
    expect(figures.converted).toBeGreaterThan(250);
  }, 300_000);
});
