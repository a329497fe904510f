/**
 * Resize whose sizes are computed at run time, as torch exports segmentation heads (lraspp, deeplabv3,
 * fcn: sizes = Concat(Shape(x)[:2], Cast(Concat(H, W)))), written as TorchScript once inference has
 * proved the output's spatial dims (QA s12: refused 'computed scales or sizes'). Referees: ONNX
 * Runtime on the model, Debian torch on the archive; the archive also reads back into modelpass.
 */
import { attrs } from '@modelpass/ir';
import { describeExportCases, type ExportCase, i64 } from './torch/export-cases.js';

/** Resize of x to [N, C, outH, outW] with sizes computed from Shape(x), as torch.onnx writes F.interpolate(size=…). */
function computedSizes(outH: number, outW: number, attributes: Record<string, ReturnType<typeof attrs.string>>): ExportCase['build'] {
  return (b, x) => {
    const leading = b.op1('onnx.Slice', [b.op1('onnx.Shape', [x]), b.constant(i64([0]), 'starts'), b.constant(i64([2]), 'ends'), b.constant(i64([0]), 'axes')]);
    const spatial = b.op1('onnx.Cast', [b.op1('onnx.Concat', [b.constant(i64([outH]), 'h'), b.constant(i64([outW]), 'w')], { axis: attrs.int(0) })], { to: attrs.int(7) });
    return b.op1('onnx.Resize', [x, null, null, b.op1('onnx.Concat', [leading, spatial], { axis: attrs.int(0) })], attributes);
  };
}

const CASES: ExportCase[] = [
  { name: 'linear half_pixel 3x4 to 7x9', input: [2, 3, 3, 4], build: computedSizes(7, 9, { mode: attrs.string('linear') }) },
  { name: 'linear align_corners 5x5 to 12x10', input: [1, 2, 5, 5], build: computedSizes(12, 10, { mode: attrs.string('linear'), coordinate_transformation_mode: attrs.string('align_corners') }) },
  { name: 'nearest asymmetric floor 4x4 to 8x8', input: [1, 2, 4, 4], build: computedSizes(8, 8, { mode: attrs.string('nearest'), coordinate_transformation_mode: attrs.string('asymmetric'), nearest_mode: attrs.string('floor') }) },
];

describeExportCases({ name: 'resize-computed-sizes-export', opset: 13, inferShapes: true }, CASES);
