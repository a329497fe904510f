/**
 * NonMaxSuppression in plain TorchScript. torchvision's `torchvision::nms` is not an option: an archive calling
 * it fails in `torch.jit.load` unless the loading process imported torchvision first ("Unknown builtin op:
 * torchvision::nms", Debian torch 1.13), so the greedy selection is written out with torch ops and loops, with
 * ONNX Runtime's semantics (packages/ops' kernel): per batch and class, the boxes whose score is above
 * score_threshold (all when it is absent), by decreasing score (ties: lower index first, a stable sort), each
 * kept unless its IoU with a box kept before is above iou_threshold (boxes of zero area overlap nothing), at most
 * max_output_boxes_per_class (0 or absent: none); int64 rows `[batch, class, box]`.
 */
import type { Node } from '@modelpass/ir';
import { pyFloat, pyInt, type EmitContext, type OpEmitter } from './emit-context.js';

/** A scalar input as a TorchScript expression of type `int`/`float`: a constant inlined, a run-time one read from its tensor. */
function scalarInput(e: EmitContext, node: Node, index: number, kind: 'int' | 'float'): string | undefined {
  const value = node.inputs[index] ?? null;
  if (!value) return undefined;
  const constant = e.constantOf(value);
  if (constant) {
    if (constant.size === 0) return undefined;
    const number = constant.toNumbers()[0]!;
    return kind === 'int' ? pyInt(number) : pyFloat(number);
  }
  return `${kind}(torch.select(torch.reshape(${e.name(value)}, [-1]), 0, 0))`;
}

const nonMaxSuppression: OpEmitter = (e, node) => {
  const boxes = e.name(node.inputs[0] ?? null);
  const scores = e.name(node.inputs[1] ?? null);
  const v = e.name(node.output(0));
  const most = scalarInput(e, node, 2, 'int') ?? '0';
  const iou = scalarInput(e, node, 3, 'float') ?? '0.';
  const threshold = scalarInput(e, node, 4, 'float');
  const centers = node.attr('center_point_box', 'int', 0) === 1;
  const column = (i: number) => `torch.select(${v}_x, 1, ${i})`;
  e.line(`${v}_most = ${most}`);
  e.line(`${v}_iou = ${iou}`);
  if (threshold) e.line(`${v}_threshold = ${threshold}`);
  e.line(`${v}_rows = annotate(List[int], [])`);
  e.line(`for ${v}_b in range(torch.size(${boxes}, 0)):`);
  e.depth++;
  e.line(`${v}_x = torch.select(${boxes}, 0, ${v}_b)`);
  if (centers) {
    // [x_center, y_center, width, height] → corners, as ONNX Runtime computes them.
    e.line(`${v}_y1 = torch.sub(${column(1)}, torch.div(${column(3)}, 2.))`);
    e.line(`${v}_x1 = torch.sub(${column(0)}, torch.div(${column(2)}, 2.))`);
    e.line(`${v}_y2 = torch.add(${column(1)}, torch.div(${column(3)}, 2.))`);
    e.line(`${v}_x2 = torch.add(${column(0)}, torch.div(${column(2)}, 2.))`);
    e.minimumVersion = Math.max(e.minimumVersion, 4);
  } else {
    e.line(`${v}_y1 = torch.minimum(${column(0)}, ${column(2)})`);
    e.line(`${v}_x1 = torch.minimum(${column(1)}, ${column(3)})`);
    e.line(`${v}_y2 = torch.maximum(${column(0)}, ${column(2)})`);
    e.line(`${v}_x2 = torch.maximum(${column(1)}, ${column(3)})`);
  }
  e.line(`${v}_area = torch.mul(torch.sub(${v}_y2, ${v}_y1), torch.sub(${v}_x2, ${v}_x1))`);
  // Pairwise IoU [N, N]: rows against columns.
  const pair = (name: string, reduce: 'minimum' | 'maximum') => `torch.${reduce}(torch.unsqueeze(${v}_${name}, 1), torch.unsqueeze(${v}_${name}, 0))`;
  e.line(`${v}_height = torch.clamp(torch.sub(${pair('y2', 'minimum')}, ${pair('y1', 'maximum')}), 0.)`);
  e.line(`${v}_width = torch.clamp(torch.sub(${pair('x2', 'minimum')}, ${pair('x1', 'maximum')}), 0.)`);
  e.line(`${v}_inter = torch.mul(${v}_height, ${v}_width)`);
  e.line(`${v}_union = torch.sub(torch.add(torch.unsqueeze(${v}_area, 1), torch.unsqueeze(${v}_area, 0)), ${v}_inter)`);
  e.line(`${v}_positive = torch.gt(${v}_area, 0.)`);
  e.line(`${v}_both = torch.logical_and(torch.unsqueeze(${v}_positive, 1), torch.unsqueeze(${v}_positive, 0))`);
  e.line(`${v}_over : List[List[bool]] = (torch.logical_and(torch.gt(torch.div(${v}_inter, ${v}_union), ${v}_iou), ${v}_both)).tolist()`);
  e.line(`for ${v}_c in range(torch.size(${scores}, 1)):`);
  e.depth++;
  e.line(`${v}_s = torch.select(torch.select(${scores}, 0, ${v}_b), 0, ${v}_c)`);
  e.line(`${v}_sorted, ${v}_order = torch.sort(${v}_s, stable=True, dim=0, descending=True)`);
  e.line(`${v}_score : List[float] = (${v}_s).tolist()`);
  e.line(`${v}_kept = annotate(List[int], [])`);
  e.line(`${v}_candidates : List[int] = (${v}_order).tolist()`);
  e.line(`for ${v}_i in ${v}_candidates:`);
  e.depth++;
  e.line(`if len(${v}_kept) >= ${v}_most:`);
  e.line(`  break`);
  e.line(`${v}_keep = True`);
  if (threshold) e.line(`${v}_keep = ${v}_score[${v}_i] > ${v}_threshold`);
  e.line(`for ${v}_k in ${v}_kept:`);
  e.line(`  if ${v}_over[${v}_k][${v}_i]:`);
  e.line(`    ${v}_keep = False`);
  e.line(`if ${v}_keep:`);
  e.line(`  ${v}_kept.append(${v}_i)`);
  e.line(`  ${v}_rows.append(${v}_b)`);
  e.line(`  ${v}_rows.append(${v}_c)`);
  e.line(`  ${v}_rows.append(${v}_i)`);
  e.depth -= 3;
  e.assign(node, `torch.reshape(torch.tensor(${v}_rows, dtype=4), [-1, 3])`);
};

export const detectionEmitters: ReadonlyArray<[string, OpEmitter]> = [['onnx.NonMaxSuppression', nonMaxSuppression]];
