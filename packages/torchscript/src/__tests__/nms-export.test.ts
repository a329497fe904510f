/**
 * NonMaxSuppression written as TorchScript (QA s12: a detection post-processor could not be written as .pt; torchvision's
 * `torchvision::nms` is not registered in `torch.jit.load` without importing torchvision, so the selection is plain
 * torch ops and loops). Boxes and scores are cut from the seeded input (random corners in either diagonal order,
 * or centers), over 2 batches and 2 classes, with a score threshold or none, a constant or a run-time max count.
 * Referees: ONNX Runtime on the model, Debian torch on the archive (equal rows).
 */
import { attrs, GraphBuilder, Tensor, type Value } from '@modelpass/ir';
import { describeExportCases, type ExportCase, i64 } from './torch/export-cases.js';

const f32 = (value: number): Tensor => Tensor.fromValues('float32', [1], [value]);

/** x [B, N, 6]: boxes = x[..., 0:4], scores [B, 2, N] = x[..., 4:6] transposed; NMS rows as float32 (the harness compares floats). */
function nms(options: { centers?: boolean; threshold?: number; most?: (b: GraphBuilder, x: Value) => Value; iou?: number }): ExportCase['build'] {
  return (b, x) => {
    const cut = (start: number, end: number, name: string) => b.op1('onnx.Slice', [x, b.constant(i64([start]), `${name}_s`), b.constant(i64([end]), `${name}_e`), b.constant(i64([2]), `${name}_a`)]);
    const boxes = cut(0, 4, 'boxes');
    const scores = b.op1('onnx.Transpose', [cut(4, 6, 'scores')], { perm: attrs.ints([0, 2, 1]) });
    const most = options.most ? options.most(b, x) : b.constant(i64([3]), 'most');
    const inputs = [boxes, scores, most, b.constant(f32(options.iou ?? 0.3), 'iou'), ...(options.threshold === undefined ? [] : [b.constant(f32(options.threshold), 'threshold')])];
    const rows = b.op1('onnx.NonMaxSuppression', inputs, options.centers ? { center_point_box: attrs.int(1) } : {});
    return b.op1('onnx.Cast', [rows], { to: attrs.int(1) });
  };
}

const CASES: ExportCase[] = [
  { name: 'NMS corners, score threshold, 2 batches x 2 classes, max 3', input: [2, 9, 6], build: nms({ threshold: 0.5 }) },
  { name: 'NMS centers (center_point_box=1), no score threshold', input: [1, 10, 6], build: nms({ centers: true, iou: 0.2 }) },
  {
    name: 'NMS with max_output_boxes_per_class computed at run time (Shape(x)[1] - 2)',
    input: [1, 8, 6],
    build: nms({ threshold: 0, most: (b, x) => b.op1('onnx.Sub', [b.op1('onnx.Slice', [b.op1('onnx.Shape', [x]), b.constant(i64([1]), 's'), b.constant(i64([2]), 'e')]), b.constant(i64([2]), 'two')]) }),
  },
  {
    // torch.onnx.export of torchvision.ops.nms writes INT64_MAX; printed from a JS number it was 9223372036854776000,
    // past int64, and torch.jit.load refused the archive ('Integral constant out of range', QA s18 round 16).
    name: 'NMS with max_output_boxes_per_class INT64_MAX (torchvision.ops.nms as torch.onnx exports it)',
    input: [2, 7, 6],
    build: nms({ threshold: 0.2, most: (b) => b.constant(Tensor.fromValues('int64', [1], [9223372036854775807n]), 'most') }),
  },
];

// The archive's loops (greedy selection over run-time lists) do not read back into modelpass: reading is not checked.
describeExportCases({ name: 'nms-export', opset: 13, readBack: false }, CASES);
