/**
 * ScatterElements written as TorchScript (QA s12: a packed-sequence LSTM, whose pack_padded_sequence exports an
 * inverse permutation by ScatterElements, could not be written as .pt: 'no torch.* spelling for
 * onnx.ScatterElements'). torch.scatter / scatter_add along the axis, negative indices (ONNX counts them from the
 * end) wrapped. Referees: ONNX Runtime on the model, Debian torch on the archive; the archive also reads back.
 */
import { attrs, Tensor } from '@modelpass/ir';
import { describeExportCases, type ExportCase, seeded } from './torch/export-cases.js';

const indices = (values: number[], shape: number[]) => Tensor.fromValues('int64', shape, values.map((v) => BigInt(v)));

const CASES: ExportCase[] = [
  {
    name: 'ScatterElements axis 1, constant indices with a negative one',
    input: [2, 4],
    build: (b, x) => b.op1('onnx.ScatterElements', [x, b.constant(indices([0, -1, 2, 1], [2, 2]), 'idx'), b.constant(seeded([2, 2], 3), 'upd')], { axis: attrs.int(1) }),
  },
  {
    name: 'ScatterElements axis -2, reduction add, repeated constant indices',
    input: [3, 2],
    opset: 16,
    build: (b, x) => b.op1('onnx.ScatterElements', [x, b.constant(indices([1, 0, 1, 1], [2, 2]), 'idx'), b.constant(seeded([2, 2], 4), 'upd')], { axis: attrs.int(-2), reduction: attrs.string('add') }),
  },
  {
    name: 'ScatterElements with indices computed at run time (an inverse permutation, as pack_padded_sequence exports)',
    input: [5],
    build: (b, x) => {
      const order = b.op('onnx.TopK', [x, b.constant(indices([5], [1]), 'k')], {}, { outputs: 2 })[1]!;
      const positions = b.constant(indices([0, 1, 2, 3, 4], [5]), 'positions');
      const inverse = b.op1('onnx.ScatterElements', [positions, order, positions], { axis: attrs.int(0) });
      return b.op1('onnx.Cast', [inverse], { to: attrs.int(1) });
    },
  },
];

describeExportCases({ name: 'scatter-elements-export', opset: 13 }, CASES);
