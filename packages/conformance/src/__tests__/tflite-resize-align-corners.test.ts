/**
 * Resize with align_corners (and tf_crop_and_resize) where scales give a fractional output length:
 * ONNX Runtime, the referee, maps corners with the integer output length ((in − 1)/(out − 1)), so
 * 4 → 3 at scale 0.8 puts the last output exactly on the last input. legalize-tflite must match it
 * in the TFLite runtime (the ONNX 1.12 reference data uses the fractional length instead).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, printModel, Tensor, tensorType, type Model } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { compareInRuntimes, feedsFor, legalize } from './tflite-legalize-harness.js';

afterAll(() => disposeSharedOrtRunner());

interface ResizeCase {
  readonly name: string;
  readonly input: number[];
  readonly scales: number[];
  readonly mode: 'linear' | 'cubic' | 'nearest';
  readonly transform: 'align_corners' | 'tf_crop_and_resize';
  readonly roi?: number[];
}

const CASES: ResizeCase[] = [
  { name: 'cubic 4×4 → 3×3 (scale 0.8)', input: [1, 1, 4, 4], scales: [1, 1, 0.8, 0.8], mode: 'cubic', transform: 'align_corners' },
  { name: 'linear 2×4 → 1×2 (scale 0.6)', input: [1, 1, 2, 4], scales: [1, 1, 0.6, 0.6], mode: 'linear', transform: 'align_corners' },
  { name: 'linear 5×7 → 8×11 (scale 1.7)', input: [1, 2, 5, 7], scales: [1, 1, 1.7, 1.7], mode: 'linear', transform: 'align_corners' },
  { name: 'linear crop-and-resize 4×4 → 3×3 (scale 0.8)', input: [1, 1, 4, 4], scales: [1, 1, 0.8, 0.8], mode: 'linear', transform: 'tf_crop_and_resize', roi: [0, 0, 0.1, 0.2, 1, 1, 0.9, 0.8] },
];

function resizeModel(c: ResizeCase): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', c.input));
  const roi = c.roi ? b.constant(Tensor.fromValues('float32', [c.roi.length], c.roi), 'roi') : b.constant(Tensor.fromValues('float32', [0], []), 'roi');
  const scales = b.constant(Tensor.fromValues('float32', [4], c.scales), 'scales');
  b.output(b.op1('onnx.Resize', [x, roi, scales], { mode: attrs.string(c.mode), coordinate_transformation_mode: attrs.string(c.transform) }));
  const model = b.model({ onnx: 13 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

describe('Resize with integer output lengths, as ONNX Runtime', () => {
  for (const c of CASES) {
    it(`${c.transform} ${c.name}`, async () => {
      const converted = resizeModel(c);
      await legalize(converted);
      expect(printModel(converted)).not.toContain('onnx.');
      const [difference] = await compareInRuntimes(resizeModel(c), converted, feedsFor(converted, 11, [0, 16]));
      expect(difference).toBeLessThan(1e-4);
    });
  }
});
