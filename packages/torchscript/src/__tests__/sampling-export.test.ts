/**
 * GridSample, Tile, Ceil and Gathers of rank-2 indices (constant or computed, any axis) written as TorchScript (QA s13: RAFT's
 * GridSample and Tile, SSDlite's Ceil, and a GPT-2 position embedding indexed by a folded arange [1, T]
 * could not be written as .pt: 'no torch.* spelling for onnx.GridSample / onnx.Tile / onnx.Ceil', 'indices
 * that are not a constant scalar or vector'). Referees: ONNX Runtime on the model, Debian torch on the
 * archive; the archive also reads back into modelpass with the same numbers.
 */
import { attrs, Tensor, type Value } from '@modelpass/ir';
import type { GraphBuilder } from '@modelpass/ir';
import { describeExportCases, i64, seeded, type ExportCase } from './torch/export-cases.js';

/** GridSample of x [1, 2, 5, 6] at a constant grid [1, 4, 3, 2] reaching a little outside [-1, 1]. */
function sample(mode: string, padding: string, align: number): (b: GraphBuilder, x: Value) => Value {
  return (b, x) =>
    b.op1('onnx.GridSample', [x, b.constant(seeded([1, 4, 3, 2], 11, -1.3, 1.3), 'grid')], {
      mode: attrs.string(mode),
      padding_mode: attrs.string(padding),
      align_corners: attrs.int(align),
    });
}

const CASES: ExportCase[] = [
  { name: 'GridSample bilinear zeros', input: [1, 2, 5, 6], build: sample('bilinear', 'zeros', 0) },
  { name: 'GridSample nearest border align_corners', input: [1, 2, 5, 6], build: sample('nearest', 'border', 1) },
  { name: 'GridSample bilinear reflection align_corners', input: [1, 2, 5, 6], build: sample('bilinear', 'reflection', 1) },
  { name: 'GridSample bicubic zeros', input: [1, 2, 5, 6], build: sample('bicubic', 'zeros', 0) },
  { name: 'Tile [2, 1, 3]', input: [2, 3, 4], build: (b, x) => b.op1('onnx.Tile', [x, b.constant(i64([2, 1, 3]), 'repeats')]) },
  { name: 'Ceil', input: [3, 5], build: (b, x) => b.op1('onnx.Ceil', [x]) },
  {
    name: 'Gather of a matrix at constant indices [2, 3]',
    input: [6, 4],
    build: (b, x) => b.op1('onnx.Gather', [x, b.constant(Tensor.fromValues('int64', [2, 3], [0n, 5n, 2n, 3n, -1n, 1n]), 'positions')], { axis: attrs.int(0) }),
  },
  {
    // Im2Col as torch's F.unfold exports it: a Gather along axis 2 of a 4-D tensor at computed [3, 2] indices, some negative.
    name: 'Gather along axis 2 at computed rank-2 indices',
    input: [1, 2, 5, 3],
    build: (b, x) => {
      const base = b.constant(Tensor.fromValues('int64', [3, 2], [0n, 1n, 2n, 3n, -1n, 2n]), 'base');
      const shifted = b.op1('onnx.Add', [base, b.constant(Tensor.fromValues('int64', [], [1n]), 'one')]);
      return b.op1('onnx.Gather', [x, shifted], { axis: attrs.int(-2) });
    },
  },
  { name: 'Gather along axis 1 at constant rank-2 indices', input: [2, 4, 3], build: (b, x) => b.op1('onnx.Gather', [x, b.constant(Tensor.fromValues('int64', [2, 2], [3n, 0n, -2n, 1n]), 'picks')], { axis: attrs.int(1) }) },
];

describeExportCases({ name: 'sampling-export', opset: 16, inferShapes: true }, CASES);
