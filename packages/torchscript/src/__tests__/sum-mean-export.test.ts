/**
 * Variadic Sum and Mean written as TorchScript (QA s18 round 17: an ONNX model summing seven inputs could not be
 * written as .pt: 'no torch.* spelling for onnx.Sum (Sum)'), with multidirectional broadcasting and one operand.
 * Referees: ONNX Runtime on the model, Debian torch on the archive; the archive also reads back into modelpass.
 */
import { Tensor } from '@modelpass/ir';
import { describeExportCases, type ExportCase } from './torch/export-cases.js';

const row = (values: number[]) => Tensor.fromValues('float32', [values.length], values);

const CASES: ExportCase[] = [
  { name: 'Sum of three, one broadcast along the last axis', input: [2, 3, 4], build: (b, x) => b.op1('onnx.Sum', [x, b.op1('onnx.Abs', [x]), b.constant(row([1, -2, 3, 0.5]), 'row')]) },
  { name: 'Sum of one operand', input: [3, 5], build: (b, x) => b.op1('onnx.Relu', [b.op1('onnx.Sum', [x])]) },
  { name: 'Mean of three, broadcast [3,1] and [4]', input: [3, 4], build: (b, x) => b.op1('onnx.Mean', [x, b.constant(Tensor.fromValues('float32', [3, 1], [1, 2, 3]), 'column'), b.constant(row([0.25, -1, 4, 2]), 'row')]) },
  { name: 'Mean of two', input: [2, 6], build: (b, x) => b.op1('onnx.Mean', [x, b.op1('onnx.Neg', [b.op1('onnx.Sqrt', [b.op1('onnx.Abs', [x])])])]) },
];

describeExportCases({ name: 'sum-mean-export', opset: 13, torchTolerance: (expected) => 1e-5 * (1 + Math.max(...expected.toNumbers().map(Math.abs))) }, CASES);
