/**
 * And/Or/Xor and GatherElements written as TorchScript (QA s20: a module using torch.gather on topk indices and
 * `(c > 0) & (c < 2) | (c < -3)` exported to ONNX could not be written as .pt: 'no torch.* spelling for
 * onnx.GatherElements; onnx.And; onnx.Or'). torch.logical_* and torch.gather (int32 indices widened, negative ones
 * wrapped, as ONNX counts them from the end). Referees: ONNX Runtime on the model, Debian torch on the archive; the
 * archive also reads back.
 */
import { attrs, Tensor } from '@modelpass/ir';
import { describeExportCases, type ExportCase, seeded } from './torch/export-cases.js';

const indices = (dtype: 'int64' | 'int32', values: number[], shape: number[]) =>
  Tensor.fromValues(dtype, shape, dtype === 'int64' ? values.map((v) => BigInt(v)) : values);
const FLOAT = attrs.int(1);

const CASES: ExportCase[] = [
  {
    name: 'And, Or, Xor of comparisons (broadcast), cast to float',
    input: [2, 3, 4],
    build: (b, x) => {
      const positive = b.op1('onnx.Greater', [x, b.constant(Tensor.scalar('float32', 0), 'zero')]);
      const small = b.op1('onnx.Less', [x, b.constant(seeded([4], 5, 0.5, 2), 'limit')]);
      const low = b.op1('onnx.Less', [x, b.constant(Tensor.scalar('float32', -1), 'minus_one')]);
      const either = b.op1('onnx.Or', [b.op1('onnx.And', [positive, small]), low]);
      const odd = b.op1('onnx.Xor', [either, positive]);
      const sum = b.op1('onnx.Add', [b.op1('onnx.Cast', [either], { to: FLOAT }), b.op1('onnx.Mul', [b.op1('onnx.Cast', [odd], { to: FLOAT }), b.constant(Tensor.scalar('float32', 2), 'two')])]);
      return b.op1('onnx.Mul', [sum, x]);
    },
  },
  {
    name: 'GatherElements axis 1, constant int64 indices with negative ones',
    input: [2, 4, 3],
    build: (b, x) => b.op1('onnx.GatherElements', [x, b.constant(indices('int64', [0, -1, 2, 3, -4, 1, 1, 1, 0, -2, 3, 2], [2, 2, 3]), 'idx')], { axis: attrs.int(1) }),
  },
  {
    name: 'GatherElements axis -1, constant int32 indices',
    input: [3, 5],
    build: (b, x) => b.op1('onnx.GatherElements', [x, b.constant(indices('int32', [4, 0, 1, 1, 2, 3], [3, 2]), 'idx')], { axis: attrs.int(-1) }),
  },
  {
    name: 'GatherElements with indices computed at run time (TopK along the last axis)',
    input: [3, 6],
    build: (b, x) => {
      const order = b.op('onnx.TopK', [x, b.constant(Tensor.fromValues('int64', [1], [3n]), 'k')], { axis: attrs.int(-1) }, { outputs: 2 })[1]!;
      const shifted = b.op1('onnx.Sub', [order, b.constant(Tensor.scalar('int64', 6n), 'six')]);
      return b.op1('onnx.GatherElements', [b.op1('onnx.Neg', [x]), shifted], { axis: attrs.int(1) });
    },
  },
];

describeExportCases({ name: 'logical-gather-elements-export', opset: 13 }, CASES);
