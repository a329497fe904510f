/**
 * ReduceLogSumExp, ReduceLogSum, ReduceSumSquare, ReduceL1, ReduceProd and Sign written as TorchScript (QA s13:
 * a conv net with torch.logsumexp over channels, and one with torch.sign and a product of dims, could not be
 * written as .pt: 'no torch.* spelling for onnx.ReduceLogSumExp / onnx.ReduceProd / onnx.Sign'). Referees:
 * ONNX Runtime on the model, Debian torch on the archive; the archive also reads back into modelpass.
 */
import { attrs, Tensor } from '@modelpass/ir';
import { describeExportCases, i64, type ExportCase } from './torch/export-cases.js';

const axes = (...values: number[]) => i64(values);

const CASES: ExportCase[] = [
  { name: 'ReduceLogSumExp over channels, kept', input: [2, 3, 4], build: (b, x) => b.op1('onnx.ReduceLogSumExp', [x, b.constant(axes(1), 'axes')]) },
  { name: 'ReduceLogSum of |x| + 1 over two axes', input: [2, 3, 4], build: (b, x) => b.op1('onnx.ReduceLogSum', [b.op1('onnx.Add', [b.op1('onnx.Abs', [x]), b.constant(Tensor.scalar('float32', 1), 'one')]), b.constant(axes(0, 2), 'axes')], { keepdims: attrs.int(0) }) },
  { name: 'ReduceSumSquare of every axis', input: [3, 4], build: (b, x) => b.op1('onnx.ReduceSumSquare', [x], { keepdims: attrs.int(0) }) },
  { name: 'ReduceL1 over the last axis', input: [2, 5], build: (b, x) => b.op1('onnx.ReduceL1', [x, b.constant(axes(-1), 'axes')]) },
  { name: 'ReduceProd over axes 2 and 0, dropped', input: [2, 3, 4], build: (b, x) => b.op1('onnx.ReduceProd', [x, b.constant(axes(2, 0), 'axes')], { keepdims: attrs.int(0) }) },
  { name: 'Sign', input: [3, 5], build: (b, x) => b.op1('onnx.Sign', [b.op1('onnx.Sub', [x, b.constant(Tensor.scalar('float32', 0.5), 'half')])]) },
];

describeExportCases({ name: 'reduce-sign-export', opset: 18, torchTolerance: (expected) => 1e-5 * (1 + Math.max(...expected.toNumbers().map(Math.abs))) }, CASES);
