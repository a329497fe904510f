/**
 * NonMaxSuppression (opset 10/11) as ONNX Runtime computes it: per batch and class, the boxes whose
 * score is above score_threshold (all when it is absent), by decreasing score (ties: lower index
 * first), each kept unless its IoU with a box kept before is above iou_threshold, at most
 * max_output_boxes_per_class of them (0 or absent: none). Output int64 `[selected, 3]` rows
 * `[batch, class, box]` in batch, class, then selection order. Boxes are corners `[y1, x1, y2, x2]`
 * (either diagonal) or, with center_point_box=1, `[x_center, y_center, width, height]`.
 */
import { tensorType } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { readNumbers } from '../util/elements.js';
import { inputTensor, opError, optionalInputTensor } from '../util/kernel-io.js';
import { int64Tensor } from './kernel-helpers.js';

/** `[yMin, xMin, yMax, xMax]` of box `index`. */
function cornersOf(data: ArrayLike<number>, offset: number, centers: boolean): [number, number, number, number] {
  const [a, b, c, d] = [data[offset]!, data[offset + 1]!, data[offset + 2]!, data[offset + 3]!];
  if (centers) return [b - d / 2, a - c / 2, b + d / 2, a + c / 2];
  return [Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)];
}

function overlapAbove(p: readonly number[], q: readonly number[], threshold: number): boolean {
  const areaP = (p[2]! - p[0]!) * (p[3]! - p[1]!);
  const areaQ = (q[2]! - q[0]!) * (q[3]! - q[1]!);
  if (areaP <= 0 || areaQ <= 0) return false;
  const height = Math.max(0, Math.min(p[2]!, q[2]!) - Math.max(p[0]!, q[0]!));
  const width = Math.max(0, Math.min(p[3]!, q[3]!) - Math.max(p[1]!, q[1]!));
  const intersection = height * width;
  return intersection / (areaP + areaQ - intersection) > threshold;
}

export const nonMaxSuppressionOp = defineCanonicalOp({
  op: 'onnx.NonMaxSuppression',
  summary: 'Greedy per-class suppression of overlapping boxes; int64 [selected, 3] rows of [batch, class, box]',
  inputs: [{ name: 'boxes' }, { name: 'scores' }, { name: 'max_output_boxes_per_class', optional: true }, { name: 'iou_threshold', optional: true }, { name: 'score_threshold', optional: true }],
  outputs: [{ name: 'selected_indices' }],
  attributes: { center_point_box: { kind: 'int', default: 0, oneOf: [0, 1] } },
  inferTypes(context) {
    // How many boxes survive depends on the data.
    return [tensorType('int64', [null, 3])];
  },
  kernel(inputs, { node }) {
    const boxes = inputTensor(inputs, 0, node);
    const scores = inputTensor(inputs, 1, node);
    if (boxes.rank !== 3 || boxes.shape[2] !== 4) throw opError(node, `boxes must be [batch, boxes, 4], not [${boxes.shape.join(',')}]`);
    const [batches, count] = boxes.shape as [number, number];
    if (scores.rank !== 3 || scores.shape[0] !== batches || scores.shape[2] !== count) throw opError(node, `scores [${scores.shape.join(',')}] do not match boxes [${boxes.shape.join(',')}]`, { expected: `[${batches}, classes, ${count}]` });
    const classes = scores.shape[1]!;
    const scalar = (index: number) => {
      const tensor = optionalInputTensor(inputs, index, node);
      return tensor && tensor.size > 0 ? readNumbers(tensor)[0] : undefined;
    };
    const most = Math.max(0, scalar(2) ?? 0);
    const iou = scalar(3) ?? 0;
    const scoreThreshold = scalar(4);
    const centers = node.attr('center_point_box', 'int', 0) === 1;
    const boxData = readNumbers(boxes);
    const scoreData = readNumbers(scores);
    const rows: number[] = [];
    for (let b = 0; b < batches; b++) {
      const corners = Array.from({ length: count }, (_, i) => cornersOf(boxData, (b * count + i) * 4, centers));
      for (let c = 0; c < classes; c++) {
        const base = (b * classes + c) * count;
        const candidates = Array.from({ length: count }, (_, i) => i).filter((i) => scoreThreshold === undefined || scoreData[base + i]! > scoreThreshold);
        candidates.sort((i, j) => scoreData[base + j]! - scoreData[base + i]! || i - j);
        const kept: number[] = [];
        for (const i of candidates) {
          if (kept.length >= most) break;
          if (kept.some((k) => overlapAbove(corners[k]!, corners[i]!, iou))) continue;
          kept.push(i);
          rows.push(b, c, i);
        }
      }
    }
    return [int64Tensor([rows.length / 3, 3], rows)];
  },
});
