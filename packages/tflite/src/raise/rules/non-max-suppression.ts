import { attrs, Tensor, tensorType, type Value } from '@modelpass/ir';
import { numbersOf } from '../../legalize/constant-values.js';
import { dimsOf, tensorTypeOf } from '../../legalize/lowering-tools.js';
import { CanonicalEmitter, replaceRaised } from '../canonical-emitter.js';
import type { RaiseRule } from '../raise-rule.js';

/**
 * NON_MAX_SUPPRESSION_V4(boxes [N, 4], scores [N], max_output_size, iou_threshold, score_threshold) and
 * NON_MAX_SUPPRESSION_V5(…, soft_nms_sigma) → ONNX NonMaxSuppression on one batch and one class
 * (boxes `[1, N, 4]` as corners, center_point_box 0; scores `[1, 1, N]`), whose `[K, 3]` rows give the
 * selected box indices in selection order. TFLite pads its selection to max_output_size with zeros and
 * says how many are valid: the indices (and V5's selected scores, gathered) are Pad-ded by
 * `max_output_size − K`, valid_outputs is K. V5 with a soft_nms_sigma other than a constant 0
 * (Soft-NMS, which lowers scores instead of dropping boxes) has no ONNX equivalent and is refused.
 */

const INT64 = 7;
const INT32 = 6;

function isFloat32(value: Value | null | undefined): boolean {
  return tensorTypeOf(value)?.dtype === 'float32';
}

const nonMaxSuppression: RaiseRule = {
  ops: ['tflite.NON_MAX_SUPPRESSION_V4', 'tflite.NON_MAX_SUPPRESSION_V5'],
  targets: ['NonMaxSuppression', 'Reshape', 'Gather', 'Shape', 'Sub', 'Concat', 'Pad', 'Cast'],
  check(node, context) {
    const v5 = node.op === 'tflite.NON_MAX_SUPPRESSION_V5';
    if (context.opset < 11) return `${node.op.slice(7)} needs opset 11 or later (Pad with a run-time amount)`;
    const boxes = dimsOf(node.inputs[0]);
    if (!boxes || boxes.length !== 2 || boxes[1] !== 4) return 'the boxes must have a known shape [num_boxes, 4]';
    if (!isFloat32(node.inputs[0]) || !isFloat32(node.inputs[1])) return 'boxes and scores must be float32';
    for (const index of [3, 4]) if (!isFloat32(node.inputs[index])) return `${index === 3 ? 'iou_threshold' : 'score_threshold'} must be a float32 scalar`;
    if (v5) {
      const sigma = numbersOf(node.inputs[5]);
      if (!sigma || sigma.length !== 1) return 'soft_nms_sigma must be a constant (0: hard NMS); a run-time sigma may ask for Soft-NMS, which ONNX NonMaxSuppression does not do';
      if (sigma[0] !== 0) return `soft_nms_sigma is ${sigma[0]}: Soft-NMS (scores decayed by overlap instead of boxes dropped) has no ONNX NonMaxSuppression equivalent; only 0 (hard NMS) is raised`;
    }
    return undefined;
  },
  raise(node) {
    const v5 = node.op === 'tflite.NON_MAX_SUPPRESSION_V5';
    const emit = new CanonicalEmitter(node);
    const i64 = (shape: readonly (number | string | null)[] | null) => tensorType('int64', shape);
    const f32 = (shape: readonly (number | string | null)[] | null) => tensorType('float32', shape);
    const boxCount = dimsOf(node.inputs[0])![0] ?? null;
    const boxes = emit.op1('Reshape', [node.input(0), emit.int64([1, -1, 4], 'boxes_shape')], {}, f32([1, boxCount, 4]));
    const scores = emit.op1('Reshape', [node.input(1), emit.int64([1, 1, -1], 'scores_shape')], {}, f32([1, 1, boxCount]));
    const known = numbersOf(node.inputs[2]);
    const most = known
      ? emit.int64([Math.max(known[0]!, 0)], 'max_output_size')
      : emit.op1('Cast', [emit.op1('Reshape', [node.input(2), emit.int64([1], 'max_shape')], {}, tensorType(tensorTypeOf(node.inputs[2])?.dtype ?? 'int32', [1]))], { to: attrs.int(INT64) }, i64([1]));
    const selection = emit.op1('NonMaxSuppression', [boxes, scores, most, node.input(3), node.input(4)], { center_point_box: attrs.int(0) }, i64(['selected', 3]));
    const indices = emit.op1('Gather', [selection, emit.int64([2], 'box_column', [])], { axis: attrs.int(1) }, i64(['selected']));
    const count = emit.op1('Shape', [indices], {}, i64([1]));
    const pads = emit.op1('Concat', [emit.int64([0], 'pad_before'), emit.op1('Sub', [most, count], {}, i64([1]))], { axis: attrs.int(0) }, i64([2]));
    const padded = (value: Value, zero: Tensor, type: Value['type'], name: string): Value =>
      emit.op1('Pad', [value, pads, emit.constant(zero, name)], {}, type);
    const selectedIndices = padded(emit.op1('Cast', [indices], { to: attrs.int(INT32) }, tensorType('int32', ['selected'])), Tensor.scalar('int32', 0), node.output(0).type, 'index_padding');
    const validOutputs = emit.op1('Reshape', [emit.op1('Cast', [count], { to: attrs.int(INT32) }, tensorType('int32', [1])), emit.int64([], 'scalar_shape', [0])], {}, node.output(v5 ? 2 : 1).type);
    if (!v5) {
      replaceRaised(node, [selectedIndices, validOutputs]);
      return;
    }
    const selectedScores = padded(emit.op1('Gather', [node.input(1), indices], { axis: attrs.int(0) }, f32(['selected'])), Tensor.scalar('float32', 0), node.output(1).type, 'score_padding');
    replaceRaised(node, [selectedIndices, selectedScores, validOutputs]);
  },
};

export const nonMaxSuppressionRaiseRules: readonly RaiseRule[] = [nonMaxSuppression];
