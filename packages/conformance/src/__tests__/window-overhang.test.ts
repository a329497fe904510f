/**
 * Windows larger than their (padded) input: ONNX's shape inference and ONNX Runtime divide in C++
 * integers (truncation toward zero), so a 2×2/stride-2 MaxPool over a 1×1 map gives one output, the
 * max of what the window covers (PaddleOCR's classifier does this at small input sizes). Judged by
 * ORT: the inferred shape, the reference kernels, and legalize-tflite in the TFLite runtime.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, printModel, tensorType, type Attribute, type Model } from '@modelpass/ir';
import { inferShapes, runReference } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { compareInRuntimes, feedsFor, legalize, maxAbsDifference, seededTensor } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

interface OverhangCase {
  readonly name: string;
  readonly input: number[];
  readonly op: string;
  readonly attributes: Record<string, Attribute>;
  readonly weight?: number[];
}

const CASES: OverhangCase[] = [
  { name: 'MaxPool 2×2/2 over 1×1', input: [1, 3, 1, 1], op: 'onnx.MaxPool', attributes: { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) } },
  { name: 'MaxPool 3×3/2 over 2×2', input: [1, 2, 2, 2], op: 'onnx.MaxPool', attributes: { kernel_shape: attrs.ints([3, 3]), strides: attrs.ints([2, 2]) } },
  { name: 'MaxPool 2×1/2 over 1×4 (one axis overhangs)', input: [1, 2, 1, 4], op: 'onnx.MaxPool', attributes: { kernel_shape: attrs.ints([2, 1]), strides: attrs.ints([2, 1]) } },
  { name: 'AveragePool 2×2/2 over 1×1', input: [1, 3, 1, 1], op: 'onnx.AveragePool', attributes: { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) } },
  // (Conv follows the same rule in ONNX's shape inference, but ONNX Runtime refuses a Conv input smaller than its kernel: no referee.)
];

function overhangModel(c: OverhangCase): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', c.input));
  const inputs = c.weight ? [x, b.constant(seededTensor(c.weight, 5), 'w')] : [x];
  b.output(b.op1(c.op, inputs, c.attributes));
  return b.model({ onnx: 13 });
}

describe('windows larger than their input', () => {
  for (const c of CASES) {
    it(`${c.name}: shape, reference kernel and TFLite as ONNX Runtime`, async () => {
      const model = overhangModel(c);
      const feeds = feedsFor(model);
      const ort = [...(await runOrt(model, feeds)).values()][0]!;
      expect(ort.shape.slice(2).every((d) => d >= 1)).toBe(true);
      inferShapes(model, { mode: 'refresh' });
      const output = model.graph.outputs[0]!.type;
      expect(output).toMatchObject({ kind: 'tensor', shape: ort.shape });
      const reference = [...runReference(model, feeds).values()][0] as typeof ort;
      expect(maxAbsDifference(ort, reference)).toBeLessThan(1e-5);
      const converted = overhangModel(c);
      inferShapes(converted, { mode: 'refresh' });
      await legalize(converted);
      expect(printModel(converted)).not.toContain('onnx.');
      const [difference] = await compareInRuntimes(model, converted, feeds);
      expect(difference).toBeLessThan(1e-4);
    });
  }
});
