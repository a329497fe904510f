/**
 * raise-tflite of TFLite's custom op TFLite_Detection_PostProcess (SSD post-processing; a tf2onnx TFLite op name, issue 12
 * item 2). Its options are a FlexBuffer map, written here by a small encoder of our own. The raised model run by ORT
 * is checked against a hand computation (decoded boxes, best non-background class, class-agnostic NMS, zero padding)
 * and against the TFLite 2.9 runtime's own kernel on the rows it reports, fast and regular NMS; the fast path with several
 * classes per detection is refused by node.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Graph, Model, ModelpassError, Tensor, tensorType } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { raiseFromTflite, registerTfliteDialect } from '@modelpass/tflite';
import { sineRamp as ramp } from './tflite-graph-building.js';

afterAll(() => disposeSharedOrtRunner());

type Entry = [string, 'int' | 'float' | 'bool', number | boolean];

/** A FlexBuffer map of scalars, every width 4 bytes, keys sorted as the reader's binary search wants. */
function flexMap(entries: Entry[]): Tensor {
  const sorted = [...entries].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const u8 = new Uint8Array(4096);
  const view = new DataView(u8.buffer);
  let at = 0;
  const keyAt = sorted.map(([key]) => {
    const start = at;
    u8.set(new TextEncoder().encode(key), at);
    at += key.length + 1;
    return start;
  });
  at = Math.ceil(at / 4) * 4;
  view.setUint32(at, sorted.length, true);
  at += 4;
  const keys = at;
  sorted.forEach((_, i) => { view.setUint32(at, at - keyAt[i]!, true); at += 4; });
  view.setUint32(at, at - keys, true);
  view.setUint32(at + 4, 4, true);
  view.setUint32(at + 8, sorted.length, true);
  at += 12;
  const map = at;
  for (const [, type, value] of sorted) {
    if (type === 'int') view.setInt32(at, value as number, true);
    else if (type === 'float') view.setFloat32(at, value as number, true);
    else view.setUint32(at, value ? 1 : 0, true);
    at += 4;
  }
  for (const [, type] of sorted) u8[at++] = ((type === 'int' ? 1 : type === 'float' ? 3 : 26) << 2) | 2;
  at = Math.ceil(at / 4) * 4;
  view.setUint32(at, at - map, true);
  at += 4;
  u8[at++] = (9 << 2) | 2;
  u8[at++] = 4;
  return Tensor.fromBytes('uint8', [at], u8.slice(0, at));
}

const ANCHORS = [[0.2, 0.2, 0.2, 0.2], [0.22, 0.21, 0.2, 0.2], [0.7, 0.7, 0.3, 0.3], [0.5, 0.2, 0.2, 0.2], [0.2, 0.8, 0.1, 0.1], [0.8, 0.3, 0.2, 0.2]];
// background first; best classes: 0 (.6), 1 (.55, under anchor 0: suppressed), 0 (.7), 1 (.2, under the threshold), 1 (.4), 0 (.5)
const SCORES = [[0.9, 0.6, 0.1], [0.1, 0.2, 0.55], [0.3, 0.7, 0.65], [0, 0.05, 0.2], [0.99, 0.3, 0.4], [0.2, 0.5, 0.45]];
const SCALES = [10, 10, 5, 5];

function model(regular = false, classesPerDetection = 1): Model {
  const graph = new Graph('main');
  const encodings = graph.addInput('encodings', tensorType('float32', [1, 6, 4]));
  const scores = graph.addInput('scores', tensorType('float32', [1, 6, 3]));
  const anchors = graph.addConstant('anchors', Tensor.fromValues('float32', [6, 4], ANCHORS.flat()));
  const options = flexMap([
    ['max_detections', 'int', 5], ['max_classes_per_detection', 'int', classesPerDetection], ['detections_per_class', 'int', 2], ['use_regular_nms', 'bool', regular],
    ['nms_score_threshold', 'float', 0.25], ['nms_iou_threshold', 'float', 0.5], ['num_classes', 'int', 2],
    ['y_scale', 'float', SCALES[0]!], ['x_scale', 'float', SCALES[1]!], ['h_scale', 'float', SCALES[2]!], ['w_scale', 'float', SCALES[3]!],
  ]);
  const node = graph.createNode({
    op: 'tflite.CUSTOM',
    name: 'detections',
    inputs: [encodings, scores, anchors],
    outputs: [
      { name: 'boxes', type: tensorType('float32', [1, 5, 4]) },
      { name: 'classes', type: tensorType('float32', [1, 5]) },
      { name: 'detection_scores', type: tensorType('float32', [1, 5]) },
      { name: 'count', type: tensorType('float32', [1]) },
    ],
    attributes: { custom_code: attrs.string('TFLite_Detection_PostProcess'), custom_options: attrs.tensor(options) },
  });
  graph.setOutputs(node.outputs.map((v) => v!));
  const result = new Model(graph);
  result.opsetImports.set('tflite', 3);
  return result;
}

describe('raise-tflite: TFLite_Detection_PostProcess', () => {
  const feeds = { encodings: ramp([1, 6, 4], 0.3), scores: Tensor.fromValues('float32', [1, 6, 3], SCORES.flat()) };

  async function expectCase(regular: boolean, kept: number[], classes: number[], scores: number[]): Promise<void> {
    const raised = model(regular);
    raiseFromTflite(raised, registerTfliteDialect(createOpRegistry()), { opset: 13 });
    expect(raised.graph.nodeList().map((n) => n.op).filter((op) => op.startsWith('tflite.'))).toEqual([]);
    const onOrt = await runOrt(raised, feeds);
    const e = feeds.encodings.toNumbers();
    const boxOf = (i: number) => {
      const [y, x, h, w] = ANCHORS[i]!;
      const yc = (e[4 * i]! / SCALES[0]!) * h! + y!;
      const xc = (e[4 * i + 1]! / SCALES[1]!) * w! + x!;
      const hh = 0.5 * Math.exp(e[4 * i + 2]! / SCALES[2]!) * h!;
      const hw = 0.5 * Math.exp(e[4 * i + 3]! / SCALES[3]!) * w!;
      return [yc - hh, xc - hw, yc + hh, xc + hw];
    };
    expect(onOrt.get('count')!.toNumbers()).toEqual([kept.length]);
    expect(onOrt.get('classes')!.toNumbers()).toEqual(classes);
    expect(onOrt.get('detection_scores')!.toNumbers().map((v) => Math.round(v * 100) / 100)).toEqual(scores);
    const boxes = onOrt.get('boxes')!.toNumbers();
    expect(onOrt.get('boxes')!.shape).toEqual([1, 5, 4]);
    [...kept.flatMap(boxOf), ...Array.from({ length: 4 * (5 - kept.length) }, () => 0)].forEach((want, i) => expect(boxes[i], `box value ${i}`).toBeCloseTo(want, 6));

    const onTflite = await new TfliteEngine().run(model(regular), feeds);
    const count = onTflite.get('count')!.toNumbers()[0]!;
    expect(count).toBe(kept.length);
    for (const [name, width] of [['boxes', 4], ['classes', 1], ['detection_scores', 1]] as const) {
      const want = onTflite.get(name)!.toNumbers().slice(0, count * width);
      const got = onOrt.get(name)!.toNumbers().slice(0, count * width);
      expect(Math.max(...want.map((v, i) => Math.abs(v - got[i]!))), name).toBeLessThanOrEqual(1e-6);
    }
  }

  it('fast path: the raised model in ORT gives the hand computation and the TFLite runtime kernel rows', async () => {
    // anchors 2, 0, 5, 4 in score order (1 suppressed by 0, 3 under 0.25), one zero row
    await expectCase(false, [2, 0, 5, 4], [0, 0, 0, 1, 0], [0.7, 0.6, 0.5, 0.4, 0]);
  });

  it('regular NMS: per class (2 each), then the best over all classes, as by hand and in the TFLite runtime', async () => {
    // class 0: anchors 2 (.7), 0 (.6); class 1: anchors 2 (.65), 1 (.55); merged by score
    await expectCase(true, [2, 2, 0, 1], [0, 1, 0, 1, 0], [0.7, 0.65, 0.6, 0.55, 0]);
  });

  it('the fast path with several classes per detection is refused by node with its reason', () => {
    let error: unknown;
    try {
      raiseFromTflite(model(false, 2), registerTfliteDialect(createOpRegistry()), { opset: 13 });
    } catch (e) {
      error = e;
    }
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as Error).message).toMatch(/node 'detections' \(tflite\.CUSTOM\).*TFLite_Detection_PostProcess.*max_classes_per_detection 2 with use_regular_nms false/);
  });
});
