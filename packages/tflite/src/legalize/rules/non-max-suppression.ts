import { Tensor, tensorType, type Value } from '@modelpass/ir';
import { numbersOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, staticDims, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { boundShape, dynamicType } from './data-dependent.js';

/**
 * NonMaxSuppression(boxes [B, N, 4], scores [B, C, N], max_output_boxes_per_class, iou_threshold,
 * score_threshold) → per batch and class one NON_MAX_SUPPRESSION_V4 (boxes as `[y1, x1, y2, x2]`
 * corners, center_point_box=1 converted from `[x, y, w, h]`), which pads its selection to
 * max_output_size and says how many are valid; a SLICE by that count keeps the valid ones, each
 * becomes a `[batch, class, box]` row, and the rows of every batch and class are concatenated in
 * ONNX's order (batch, class, then decreasing score) and CAST to int64. Without a score_threshold
 * every box is a candidate (the lowest float32 as threshold).
 */

const LOWEST_FLOAT32 = -3.4028234663852886e38;

/** A scalar float32 of an optional `[1]`/scalar input: a constant folded, a run-time one RESHAPEd to `[]`. */
function scalarOf(emit: TfliteEmitter, value: Value | null | undefined, fallback: number, name: string): Value {
  if (!value) return emit.constant(Tensor.fromValues('float32', [], [fallback]), name);
  const known = numbersOf(value);
  if (known) return emit.constant(Tensor.fromValues('float32', [], [known[0]!]), name);
  return emit.op1('RESHAPE', [value, emit.int32([], [0], `${name}_scalar`)], {}, tensorType('float32', []));
}

/** Boxes `[N, 4]` as `[x_center, y_center, width, height]` → corners `[y1, x1, y2, x2]` (as ONNX Runtime computes them). */
function cornersOfCenters(emit: TfliteEmitter, boxes: Value, count: number, name: string): Value {
  const column = tensorType('float32', [count, 1]);
  const split = emit.op('SPLIT', [emit.int32([1], [], `${name}_axis`), boxes], { num_splits: 4 }, [column, column, column, column]);
  const [x, y, w, h] = [0, 1, 2, 3].map((i) => split.output(i));
  const half = emit.constant(Tensor.fromValues('float32', [], [0.5]), `${name}_half`);
  const halfW = emit.op1('MUL', [w!, half], { fused_activation_function: 'NONE' }, column);
  const halfH = emit.op1('MUL', [h!, half], { fused_activation_function: 'NONE' }, column);
  const sub = (a: Value, b: Value) => emit.op1('SUB', [a, b], { fused_activation_function: 'NONE' }, column);
  const add = (a: Value, b: Value) => emit.op1('ADD', [a, b], { fused_activation_function: 'NONE' }, column);
  return emit.op1('CONCATENATION', [sub(y!, halfH), sub(x!, halfW), add(y!, halfH), add(x!, halfW)], { axis: 1, fused_activation_function: 'NONE' }, tensorType('float32', [count, 4]));
}

/** max_output_boxes_per_class (int64 `[1]`) → int32 scalar min(max(v, 0), count). */
function runTimeMaximum(emit: TfliteEmitter, value: Value, count: number): Value {
  const int64 = (v: number, name: string) => emit.constant(Tensor.fromValues('int64', [], [BigInt(v)]), name);
  const type = tensorType('int64', dimsOf(value) ?? [1]);
  const bounded = emit.op1('MINIMUM', [emit.op1('MAXIMUM', [value, int64(0, 'max_floor')], {}, type), int64(count, 'max_ceiling')], {}, type);
  const int32 = emit.op1('CAST', [bounded], { in_data_type: 'INT64', out_data_type: 'INT32' }, tensorType('int32', dimsOf(value) ?? [1]));
  return emit.op1('RESHAPE', [int32, emit.int32([], [0], 'max_scalar')], {}, tensorType('int32', []));
}

export const nonMaxSuppression: LoweringRule = {
  ops: ['onnx.NonMaxSuppression'],
  stage: 'lower',
  targets: ['NON_MAX_SUPPRESSION_V4', 'GATHER', 'RESHAPE', 'SPLIT', 'MUL', 'ADD', 'SUB', 'SLICE', 'CONCATENATION', 'CAST', 'MAXIMUM', 'MINIMUM'],
  check(node) {
    const boxes = staticDims(node.inputs[0]);
    const scores = staticDims(node.inputs[1]);
    if (!boxes || boxes.length !== 3 || boxes[2] !== 4) return 'NonMaxSuppression needs boxes of a static shape [batch, boxes, 4]';
    if (!scores || scores.length !== 3 || scores[0] !== boxes[0] || scores[2] !== boxes[1]) return 'NonMaxSuppression needs scores of a static shape [batch, classes, boxes]';
    if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32' || tensorTypeOf(node.inputs[1])?.dtype !== 'float32') return 'NonMaxSuppression takes float32 boxes and scores in TFLite';
    const most = node.inputs[2] ? numbersOf(node.inputs[2]) : [0];
    if (most && (most[0] ?? 0) <= 0) return 'max_output_boxes_per_class is 0 (or absent): the output is always empty, which TFLite has no tensor for';
    if (!most && (tensorTypeOf(node.inputs[2])?.dtype !== 'int64' || (staticDims(node.inputs[2])?.reduce((n, d) => n * d, 1) ?? 0) !== 1)) return 'a run-time max_output_boxes_per_class must be one int64';
    for (const [index, what] of [[3, 'iou_threshold'], [4, 'score_threshold']] as const) {
      const value = node.inputs[index];
      if (!value || numbersOf(value)) continue;
      if (tensorTypeOf(value)?.dtype !== 'float32' || (staticDims(value)?.reduce((n, d) => n * d, 1) ?? 0) !== 1) return `${what} must be one float32`;
    }
    const centerPointBox = node.optionalAttr('center_point_box', 'int') ?? 0;
    if (centerPointBox !== 0 && centerPointBox !== 1) return `center_point_box ${centerPointBox} is not 0 or 1`;
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const [batches, count] = staticDims(node.inputs[0])!;
    const classes = staticDims(node.inputs[1])![1]!;
    // A run-time max_output_boxes_per_class: at most N boxes per class either way (MINIMUM before the CAST to int32).
    const given = numbersOf(node.inputs[2]);
    const most = given ? Math.min(given[0]!, count!) : count!;
    const centers = (node.optionalAttr('center_point_box', 'int') ?? 0) === 1;
    const iou = scalarOf(emit, node.inputs[3], 0, 'iou');
    const threshold = scalarOf(emit, node.inputs[4], LOWEST_FLOAT32, 'score_threshold');
    const maxSize = given ? emit.int32([most], [], 'max_output_size') : runTimeMaximum(emit, node.input(2), count!);
    const scoreRows = emit.op1('RESHAPE', [node.input(1), emit.int32([batches! * classes, count!], [2], 'score_rows')], {}, tensorType('float32', [batches! * classes, count!]));
    const zero = emit.int32([0], [1], 'begin');
    const rows: Value[] = [];
    for (let b = 0; b < batches!; b++) {
      let boxes = emit.op1('GATHER', [node.input(0), emit.int32([b], [], `batch${b}`)], { axis: 0, batch_dims: 0 }, tensorType('float32', [count!, 4]));
      if (centers) boxes = cornersOfCenters(emit, boxes, count!, `corners${b}`);
      for (let c = 0; c < classes; c++) {
        const scores = emit.op1('GATHER', [scoreRows, emit.int32([b * classes + c], [], `row${b}_${c}`)], { axis: 0, batch_dims: 0 }, tensorType('float32', [count!]));
        const nms = emit.op('NON_MAX_SUPPRESSION_V4', [boxes, scores, maxSize, iou, threshold], {}, [tensorType('int32', [most]), tensorType('int32', [])]);
        const valid = emit.op1('RESHAPE', [nms.output(1), emit.int32([1], [1], 'one')], {}, tensorType('int32', [1]));
        const kept = boundShape(emit.op1('SLICE', [nms.output(0), zero, valid], {}, dynamicType('int32', [null])), [most]);
        const column = boundShape(emit.op1('RESHAPE', [kept, emit.int32([-1, 1], [2], 'column')], {}, dynamicType('int32', [null, 1])), [most, 1]);
        // [batch, class] beside each kept index: 0·index + the constant.
        const zeros = boundShape(emit.op1('MUL', [column, emit.int32([0], [], 'zero')], { fused_activation_function: 'NONE' }, dynamicType('int32', [null, 1])), [most, 1]);
        const label = boundShape(emit.op1('ADD', [zeros, emit.int32([b, c], [1, 2], `label${b}_${c}`)], { fused_activation_function: 'NONE' }, dynamicType('int32', [null, 2])), [most, 2]);
        rows.push(boundShape(emit.op1('CONCATENATION', [label, column], { axis: 1, fused_activation_function: 'NONE' }, dynamicType('int32', [null, 3])), [most, 3]));
      }
    }
    const total = batches! * classes * most;
    const all = rows.length === 1 ? rows[0]! : boundShape(emit.op1('CONCATENATION', rows, { axis: 0, fused_activation_function: 'NONE' }, dynamicType('int32', [null, 3])), [total, 3]);
    const selected = emit.op1('CAST', [all], { in_data_type: 'INT32', out_data_type: 'INT64' }, dimsOf(node.outputs[0]) ? node.output(0).type : dynamicType('int64', [null, 3]));
    replaceNode(node, [boundShape(selected, [total, 3])]);
  },
};
