/**
 * raise-tflite rules for WHERE (coordinates of the true elements → NonZero transposed) and UNIQUE (first-occurrence
 * order → Unique sorted=0, its inverse_indices as UNIQUE's idx) — issue 12 audit s14: legalize-tflite writes both for
 * ONNX NonZero, Compress (run-time condition) and Unique, and raise-tflite refused them ('has no ONNX lowering yet'), so
 * these node cases converted to TFLite but never came back. Each case: legalize → the TFLite 2.9 runtime reproduces the
 * reference outputs; raise → ORT reproduces them too (data-dependent output lengths included).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readOnnx } from '@modelpass/onnx';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { disposeSharedOrtRunner, loadTestDataSet, runOrt, TfliteEngine } from '@modelpass/runtime';
import { lowerToTflite, prepareCanonicalForTflite, raiseFromTflite, registerTfliteDialect } from '@modelpass/tflite';
import { listOnnxConformanceCases } from '../onnx-cases.js';

afterAll(() => disposeSharedOrtRunner());

const CASES = ['test_nonzero_example', 'test_compress_0', 'test_compress_1', 'test_compress_default_axis', 'test_compress_negative_axis', 'test_unique_not_sorted_without_axis', 'test_unique_sorted_without_axis'];

describe('raise-tflite: WHERE and UNIQUE, through ONNX node cases', () => {
  const cases = listOnnxConformanceCases().filter((c) => c.suite === 'node' && CASES.includes(c.name));
  it('finds the cases', () => expect(cases.map((c) => c.name).sort()).toEqual([...CASES].sort()));
  for (const testCase of cases) {
    it(`${testCase.name}: TFLite 2.9 and ORT on the raised model reproduce the reference outputs`, async () => {
      const registry = registerTfliteDialect(createOpRegistry());
      const model = readOnnx(testCase.modelPath);
      const data = loadTestDataSet(`${testCase.dir}/test_data_set_0`, model);
      inferShapes(model, { registry, mode: 'refresh' });
      prepareCanonicalForTflite(model);
      inferShapes(model, { registry, mode: 'refresh' });
      lowerToTflite(model, registry, { ioLayout: 'nchw' });
      const ops = new Set(model.graph.nodeList().map((n) => n.op));
      expect(ops.has('tflite.WHERE') || ops.has('tflite.UNIQUE')).toBe(true);
      const feeds = Object.fromEntries([...data.inputs].filter(([name]) => model.graph.inputs.some((v) => v.name === name)));
      const onTflite = await new TfliteEngine().run(model, feeds);
      raiseFromTflite(model, registry, { opset: 13 });
      expect(model.graph.nodeList().map((n) => n.op).filter((op) => op.startsWith('tflite.'))).toEqual([]);
      const onOrt = await runOrt(model, feeds);
      for (const [name, expected] of data.outputs) {
        expect(onTflite.get(name)!.toNumbers(), `${name} (TFLite)`).toEqual(expected.toNumbers());
        expect(onOrt.get(name)!.shape, `${name} (ORT)`).toEqual(expected.shape);
        expect(onOrt.get(name)!.toNumbers(), `${name} (ORT)`).toEqual(expected.toNumbers());
      }
    });
  }
});
