/**
 * raise-tflite for NON_MAX_SUPPRESSION_V4 and V5 (QA s12: a detection post-processor's .tflite could not go back to
 * ONNX): a tflite-dialect model run by the TFLite 2.9 runtime, then raised to ONNX NonMaxSuppression and run by ONNX
 * Runtime, gives the same padded indices, selected scores and valid counts. Boxes overlap in chains (some
 * suppressed, some not), one score is under the threshold, one box is given with its corners swapped, and a
 * max_output_size larger than the boxes pads with zeros. V5 with a soft_nms_sigma ≠ 0 (Soft-NMS) is refused by node.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Model, Tensor, tensorType } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { raiseFromTflite, registerTfliteDialect } from '@modelpass/tflite';
import { addTfliteNode as add } from './tflite-graph-building.js';

afterAll(() => disposeSharedOrtRunner());

const BOXES = 7;

function model(sigma = 0): Model {
  const graph = new Graph('main');
  const boxes = graph.addInput('boxes', tensorType('float32', [BOXES, 4]));
  const scores = graph.addInput('scores', tensorType('float32', [BOXES]));
  const scalar = (name: string, dtype: 'float32' | 'int32', value: number) => graph.addConstant(name, Tensor.fromValues(dtype, [], [value]));
  const iou = scalar('iou', 'float32', 0.45);
  const threshold = scalar('score_threshold', 'float32', 0.2);
  const outputs = [
    ...add(graph, 'NON_MAX_SUPPRESSION_V4', [boxes, scores, scalar('max3', 'int32', 3), iou, threshold], [
      ['v4_indices', tensorType('int32', [3])],
      ['v4_valid', tensorType('int32', [])],
    ]),
    ...add(graph, 'NON_MAX_SUPPRESSION_V5', [boxes, scores, scalar('max9', 'int32', 9), iou, threshold, scalar('sigma', 'float32', sigma)], [
      ['v5_indices', tensorType('int32', [9])],
      ['v5_scores', tensorType('float32', [9])],
      ['v5_valid', tensorType('int32', [])],
    ]),
  ];
  graph.setOutputs(outputs);
  const result = new Model(graph);
  result.opsetImports.set('tflite', 3);
  return result;
}

const FEEDS = {
  // [y1, x1, y2, x2]; box 3 has its corners swapped (any diagonal pair is a box in both specs).
  boxes: Tensor.fromValues('float32', [BOXES, 4], [
    0, 0, 1, 1,
    0.1, 0.05, 1.1, 1.0,
    0.5, 0.5, 1.5, 1.5,
    3.0, 3.2, 2.0, 2.1,
    2.1, 2.0, 3.1, 3.0,
    0, 5, 1, 6,
    0.02, 5.1, 1.0, 6.05,
  ]),
  scores: Tensor.fromValues('float32', [BOXES], [0.9, 0.85, 0.6, 0.3, 0.7, 0.15, 0.55]),
};

describe('raise-tflite NON_MAX_SUPPRESSION_V4/V5 → NonMaxSuppression', () => {
  it('ORT on the raised model gives the TFLite runtime outputs (padding, valid counts, V5 scores)', async () => {
    const registry = registerTfliteDialect(createOpRegistry());
    const tflite = model();
    const onTflite = await new TfliteEngine().run(tflite, FEEDS);
    raiseFromTflite(tflite, registry, { opset: 13 });
    expect(tflite.graph.nodeList().map((n) => n.op).filter((op) => op.startsWith('tflite.'))).toEqual([]);
    expect(tflite.graph.nodeList().filter((n) => n.op === 'onnx.NonMaxSuppression')).toHaveLength(2);
    const onOrt = await runOrt(tflite, FEEDS);
    for (const [name, expected] of onTflite) {
      expect(onOrt.get(name)!.shape, name).toEqual(expected.shape);
      expect(onOrt.get(name)!.dtype, name).toBe(expected.dtype);
      expect(onOrt.get(name)!.toNumbers(), name).toEqual(expected.toNumbers());
    }
    // By score: 0 kept, 1 suppressed by 0, 4 kept, 2 kept (IoU with 0 is 0.14), 6 kept, 3 (corners swapped) suppressed by 4
    // (IoU 0.63), 5 under the score threshold; V4 stops at its max_output_size 3, V5 pads 4 valid to 9.
    expect(onTflite.get('v5_indices')!.toNumbers()).toEqual([0, 4, 2, 6, 0, 0, 0, 0, 0]);
    expect(onTflite.get('v5_valid')!.toNumbers()).toEqual([4]);
    expect(onTflite.get('v4_indices')!.toNumbers()).toEqual([0, 4, 2]);
    expect(onTflite.get('v4_valid')!.toNumbers()).toEqual([3]);
  }, 60_000);

  it('V5 with soft_nms_sigma ≠ 0 is refused by node, naming Soft-NMS', () => {
    const registry = registerTfliteDialect(createOpRegistry());
    let message = '';
    try {
      raiseFromTflite(model(0.5), registry, { opset: 13 });
    } catch (error) {
      message = String((error as Error).message);
    }
    expect(message).toMatch(/v5_indices/);
    expect(message).toMatch(/soft_nms_sigma is 0\.5: Soft-NMS/);
  });
});
