/**
 * TFLite's built-in custom op `TFLite_Detection_PostProcess` (SSD post-processing; its kernel ships with TFLite and
 * its options are a FlexBuffer map): inputs box_encodings [1, N, 4] (ty, tx, th, tw), class_predictions
 * [1, N, classes + background], anchors [N, 4] (y, x, h, w); outputs boxes [1, max_detections, 4] (ymin, xmin,
 * ymax, xmax), classes and scores [1, max_detections] (float), num_detections [1] (float).
 *
 * The boxes are decoded as the kernel does (y = ty / y_scale · h_a + y_a, half height ½·exp(th / h_scale)·h_a, likewise
 * x/w) and NonMaxSuppression runs with iou > threshold suppressing, as in the kernel, and the score threshold one float32
 * step down (ONNX keeps score > threshold, TFLite ≥). Fast path (use_regular_nms false, one class per detection): each
 * anchor's best non-background class by ReduceMax/ArgMax, one class-agnostic NMS for max_detections. Regular NMS: NMS
 * per class (detections_per_class each), then TopK of the selected scores over all classes for max_detections (equal
 * scores may come out in another order than the kernel's). The kept rows are Pad-ded with zeros to max_detections;
 * num_detections is their count. The fast path with several classes per detection is refused by node.
 */
import { attrs, Tensor, tensorType, type Node, type Value } from '@modelpass/ir';
import { staticDims } from '../../legalize/lowering-tools.js';
import { CanonicalEmitter, replaceRaised } from '../canonical-emitter.js';

export const DETECTION_POSTPROCESS = 'TFLite_Detection_PostProcess';

type FlexValue = number | boolean | null;

/** The scalar entries of a FlexBuffer map (what the kernel reads); throws on anything else. */
export function readFlexMap(bytes: Uint8Array): Map<string, FlexValue> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const uint = (at: number, width: number): number => {
    if (at < 0 || at + width > bytes.length) throw new Error(`an offset ${at} outside the ${bytes.length} bytes`);
    return width === 1 ? view.getUint8(at) : width === 2 ? view.getUint16(at, true) : width === 4 ? view.getUint32(at, true) : Number(view.getBigUint64(at, true));
  };
  const int = (at: number, width: number): number =>
    width === 1 ? view.getInt8(at) : width === 2 ? view.getInt16(at, true) : width === 4 ? view.getInt32(at, true) : Number(view.getBigInt64(at, true));
  const float = (at: number, width: number): number => (width === 4 ? view.getFloat32(at, true) : view.getFloat64(at, true));
  if (bytes.length < 3) throw new Error(`${bytes.length} bytes are too few for a FlexBuffer`);
  const rootWidth = bytes[bytes.length - 1]!;
  const rootType = bytes[bytes.length - 2]!;
  const rootAt = bytes.length - 2 - rootWidth;
  if (rootType >> 2 !== 9) throw new Error(`the root is of FlexBuffer type ${rootType >> 2}, not a map (9)`);
  const width = 1 << (rootType & 3);
  const mapAt = rootAt - uint(rootAt, rootWidth);
  const size = uint(mapAt - width, width);
  const keysField = mapAt - 3 * width;
  const keysAt = keysField - uint(keysField, width);
  const keysWidth = uint(mapAt - 2 * width, width);
  const entries = new Map<string, FlexValue>();
  for (let i = 0; i < size; i++) {
    const keyField = keysAt + i * keysWidth;
    const keyAt = keyField - uint(keyField, keysWidth);
    let end = keyAt;
    while (end < bytes.length && bytes[end] !== 0) end++;
    const key = new TextDecoder().decode(bytes.subarray(keyAt, end));
    const at = mapAt + i * width;
    const packed = uint(mapAt + size * width + i, 1);
    const type = packed >> 2;
    const child = 1 << (packed & 3);
    if (type === 0) entries.set(key, null);
    else if (type === 1) entries.set(key, int(at, width));
    else if (type === 2) entries.set(key, uint(at, width));
    else if (type === 3) entries.set(key, float(at, width));
    else if (type === 26) entries.set(key, uint(at, width) !== 0);
    else if (type === 6) entries.set(key, int(at - uint(at, width), child));
    else if (type === 7) entries.set(key, uint(at - uint(at, width), child));
    else if (type === 8) entries.set(key, float(at - uint(at, width), child));
    // strings, vectors and maps are nothing the kernel reads: skipped
  }
  return entries;
}

interface DetectionOptions {
  /** use_regular_nms: NMS per class (detections_per_class each), then the best max_detections over all classes. */
  regular: boolean;
  detectionsPerClass: number;
  maxDetections: number;
  classes: number;
  scoreThreshold: number;
  iouThreshold: number;
  scales: [number, number, number, number];
}

function optionsOf(node: Node): DetectionOptions | string {
  const tensor = node.optionalAttr('custom_options', 'tensor');
  let entries: Map<string, FlexValue>;
  try {
    entries = readFlexMap(Uint8Array.from(tensor?.toNumbers().map(Number) ?? []));
  } catch (e) {
    return `its custom options are not a FlexBuffer map: ${(e as Error).message}`;
  }
  const numberOf = (key: string): number | undefined => (typeof entries.get(key) === 'number' ? (entries.get(key) as number) : undefined);
  const missing = ['max_detections', 'max_classes_per_detection', 'nms_score_threshold', 'nms_iou_threshold', 'num_classes', 'y_scale', 'x_scale', 'h_scale', 'w_scale'].filter((k) => numberOf(k) === undefined);
  if (missing.length > 0) return `its options lack ${missing.join(', ')}`;
  const regular = entries.get('use_regular_nms') === true || (typeof entries.get('use_regular_nms') === 'number' && entries.get('use_regular_nms') !== 0);
  if (!regular && numberOf('max_classes_per_detection') !== 1) return `max_classes_per_detection ${numberOf('max_classes_per_detection')} with use_regular_nms false is not raised; 1 is`;
  const detectionsPerClass = numberOf('detections_per_class') ?? 100;
  if (regular && (!Number.isInteger(detectionsPerClass) || detectionsPerClass < 1)) return `detections_per_class ${detectionsPerClass} must be a positive integer`;
  return {
    regular,
    detectionsPerClass,
    maxDetections: numberOf('max_detections')!,
    classes: numberOf('num_classes')!,
    scoreThreshold: numberOf('nms_score_threshold')!,
    iouThreshold: numberOf('nms_iou_threshold')!,
    scales: [numberOf('y_scale')!, numberOf('x_scale')!, numberOf('h_scale')!, numberOf('w_scale')!],
  };
}

export function detectionPostProcessProblem(node: Node, opset: number): string | undefined {
  if (opset < 11) return 'needs opset 11 or later (NonMaxSuppression, Pad with a pads input)';
  if (node.inputs.length !== 3 || node.outputs.length !== 4) return `takes 3 inputs (box encodings, class predictions, anchors) and gives 4 outputs; this node has ${node.inputs.length} and ${node.outputs.length}`;
  const options = optionsOf(node);
  if (typeof options === 'string') return options;
  const boxes = staticDims(node.inputs[0]);
  const scores = staticDims(node.inputs[1]);
  const anchors = staticDims(node.inputs[2]);
  if (!boxes || boxes.length !== 3 || boxes[0] !== 1 || boxes[2]! < 4) return 'needs box encodings of static shape [1, N, 4 or more]';
  if (!scores || scores.length !== 3 || scores[0] !== 1 || scores[1] !== boxes[1]) return `needs class predictions of static shape [1, ${boxes[1]}, classes]`;
  if (scores[2]! < options.classes || scores[2]! > options.classes + 1) return `class predictions of ${scores[2]} columns for num_classes ${options.classes}`;
  if (!anchors || anchors.length !== 2 || anchors[0] !== boxes[1] || anchors[1] !== 4) return `needs anchors of static shape [${boxes[1]}, 4]`;
  if (!Number.isInteger(options.maxDetections) || options.maxDetections < 1) return `max_detections ${options.maxDetections} must be a positive integer`;
  return undefined;
}

export function raiseDetectionPostProcess(node: Node): void {
  const options = optionsOf(node) as DetectionOptions;
  const emit = new CanonicalEmitter(node);
  const n = staticDims(node.inputs[0])![1]!;
  const encodingWidth = staticDims(node.inputs[0])![2]!;
  const columns = staticDims(node.inputs[1])![2]!;
  const max = options.maxDetections;
  const f32 = (shape: (number | null)[]) => tensorType('float32', shape);
  const scalar = (value: number, name: string) => emit.constant(Tensor.scalar('float32', value), name);
  const column = (from: Value, index: number, name: string) =>
    emit.op1('Slice', [from, emit.int64([index], `${name}_start`), emit.int64([index + 1], `${name}_end`), emit.int64([1], `${name}_axis`)], {}, f32([n, 1]));
  const encodings = emit.op1('Reshape', [node.input(0), emit.int64([n, encodingWidth], 'encodings_shape')], {}, f32([n, encodingWidth]));
  const anchors = node.input(2);
  const [ty, tx, th, tw] = ['ty', 'tx', 'th', 'tw'].map((name, i) => column(encodings, i, name));
  const [ya, xa, ha, wa] = ['ya', 'xa', 'ha', 'wa'].map((name, i) => column(anchors, i, name));
  const [yScale, xScale, hScale, wScale] = options.scales;
  const op2 = (op: string, a: Value, b: Value) => emit.op1(op, [a, b], {}, f32([n, 1]));
  const center = (t: Value, scale: number, size: Value, at: Value, name: string) => op2('Add', op2('Mul', op2('Div', t, scalar(scale, `${name}_scale`)), size), at);
  const half = (t: Value, scale: number, size: Value, name: string) =>
    op2('Mul', op2('Mul', emit.op1('Exp', [op2('Div', t, scalar(scale, `${name}_scale`))], {}, f32([n, 1])), size), scalar(0.5, `${name}_half`));
  const yc = center(ty!, yScale, ha!, ya!, 'y');
  const xc = center(tx!, xScale, wa!, xa!, 'x');
  const hh = half(th!, hScale, ha!, 'h');
  const hw = half(tw!, wScale, wa!, 'w');
  const decoded = emit.op1('Concat', [op2('Sub', yc, hh), op2('Sub', xc, hw), op2('Add', yc, hh), op2('Add', xc, hw)], { axis: attrs.int(1) }, f32([n, 4]));
  const offset = columns - options.classes;
  const classScores = emit.op1('Slice', [node.input(1), emit.int64([offset], 'class_start'), emit.int64([columns], 'class_end'), emit.int64([2], 'class_axis')], {}, f32([1, n, options.classes]));
  // ONNX keeps score > threshold, the kernel score ≥ threshold: one float32 step below gives ≥ for float32 scores.
  const below = new Float32Array([options.scoreThreshold]);
  const bits = new Int32Array(below.buffer);
  if (below[0] === 0) below[0] = -1.401298464324817e-45;
  else bits[0] = bits[0]! + (below[0]! > 0 ? -1 : 1);
  const nms = (boxes: Value, scores: Value, perClass: number) =>
    emit.op1(
      'NonMaxSuppression',
      [boxes, scores, emit.int64([perClass], 'max_per_class'), emit.constant(Tensor.fromValues('float32', [1], [options.iouThreshold]), 'iou'), emit.constant(Tensor.fromValues('float32', [1], [below[0]!]), 'score_threshold')],
      {},
      tensorType('int64', [null, 3]),
    );
  const nmsBoxes = emit.op1('Unsqueeze', [decoded, emit.int64([0], 'batch_axis')], {}, f32([1, n, 4]));
  const columnOf = (selected: Value, index: number, name: string) =>
    emit.op1('Gather', [selected, emit.constant(Tensor.scalar('int64', BigInt(index)), name)], { axis: attrs.int(1) }, tensorType('int64', [null]));
  const zero = emit.int64([0], 'zero');
  const max_ = emit.int64([max], 'max_rows');
  let kept: Value; // anchor rows, in output order
  let keptScores: Value;
  let keptClasses: Value; // float
  if (!options.regular) {
    const best = emit.op1('ReduceMax', [classScores], { axes: attrs.ints([2]), keepdims: attrs.int(0) }, f32([1, n]));
    const bestClass = emit.op1('ArgMax', [classScores], { axis: attrs.int(2), keepdims: attrs.int(0) }, tensorType('int64', [1, n]));
    const selected = nms(nmsBoxes, emit.op1('Unsqueeze', [best, emit.int64([1], 'class_axis_1')], {}, f32([1, 1, n])), max);
    kept = columnOf(selected, 2, 'box_column');
    const flatScores = emit.op1('Reshape', [best, emit.int64([n], 'scores_shape')], {}, f32([n]));
    const flatClasses = emit.op1('Reshape', [bestClass, emit.int64([n], 'classes_shape')], {}, tensorType('int64', [n]));
    keptScores = emit.op1('Gather', [flatScores, kept], { axis: attrs.int(0) }, f32([null]));
    keptClasses = emit.op1('Cast', [emit.op1('Gather', [flatClasses, kept], { axis: attrs.int(0) }, tensorType('int64', [null]))], { to: attrs.int(1) }, f32([null]));
  } else {
    // per class: NMS over [1, classes, N], then the best max_detections (class, anchor) pairs by score
    const byClass = emit.op1('Transpose', [classScores], { perm: attrs.ints([0, 2, 1]) }, f32([1, options.classes, n]));
    const selected = nms(nmsBoxes, byClass, options.detectionsPerClass);
    const pairs = emit.op1('Slice', [selected, emit.int64([1], 'pair_start'), emit.int64([3], 'pair_end'), emit.int64([1], 'pair_axis')], {}, tensorType('int64', [null, 2]));
    const table = emit.op1('Reshape', [byClass, emit.int64([options.classes, n], 'table_shape')], {}, f32([options.classes, n]));
    const pairScores = emit.op1('GatherND', [table, pairs], {}, f32([null]));
    const found = emit.op1('Shape', [pairScores], {}, tensorType('int64', [1]));
    const k = emit.op1('Min', [found, max_], {}, tensorType('int64', [1]));
    const top = emit.at.create('onnx.TopK', [pairScores, k], { axis: attrs.int(0), largest: attrs.int(1), sorted: attrs.int(1) }, { types: [f32([null]), tensorType('int64', [null])], name: `${node.name}_topk` }).outputs;
    keptScores = top[0]!;
    const order = top[1]!;
    kept = emit.op1('Gather', [columnOf(selected, 2, 'box_column'), order], { axis: attrs.int(0) }, tensorType('int64', [null]));
    keptClasses = emit.op1('Cast', [emit.op1('Gather', [columnOf(selected, 1, 'class_column'), order], { axis: attrs.int(0) }, tensorType('int64', [null]))], { to: attrs.int(1) }, f32([null]));
  }
  const count = emit.op1('Shape', [kept], {}, tensorType('int64', [1]));
  const missing = emit.op1('Sub', [max_, count], {}, tensorType('int64', [1]));
  const padded = (rows: Value, rest: number[], name: string): Value => {
    const pads = emit.op1('Concat', [zero, ...rest.map(() => zero), missing, ...rest.map(() => zero)], { axis: attrs.int(0) }, tensorType('int64', [2 + 2 * rest.length]));
    const full = emit.op1('Pad', [rows, pads], {}, f32([max, ...rest]));
    return emit.op1('Unsqueeze', [full, emit.int64([0], `${name}_batch`)], {}, f32([1, max, ...rest]));
  };
  const boxes = padded(emit.op1('Gather', [decoded, kept], { axis: attrs.int(0) }, f32([null, 4])), [4], 'boxes');
  const classes = padded(keptClasses, [], 'classes');
  const scores = padded(keptScores, [], 'scores');
  const detections = emit.op1('Cast', [count], { to: attrs.int(1) }, f32([1]));
  replaceRaised(node, [boxes, classes, scores, detections]);
}
