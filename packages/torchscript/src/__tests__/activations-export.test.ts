/**
 * PRelu, LeakyRelu, Elu, ReduceL2 and CumSum written as TorchScript (QA s12: a small conv net with PReLU,
 * leaky_relu, elu, F.normalize and cumsum was refused as .pt: 'no torch.* spelling for onnx.PRelu; …').
 * Referees: ONNX Runtime on the model, Debian torch on the archive; the archive also reads back into modelpass.
 */
import { attrs, Tensor } from '@modelpass/ir';
import { describeExportCases, type ExportCase, seeded } from './torch/export-cases.js';

const CASES: ExportCase[] = [
  { name: 'PRelu with a [C, 1, 1] slope', input: [2, 3, 4, 5], build: (b, x) => b.op1('onnx.PRelu', [x, b.constant(seeded([3, 1, 1], 5), 'slope')]) },
  { name: 'LeakyRelu alpha 0.2', input: [2, 6], build: (b, x) => b.op1('onnx.LeakyRelu', [x], { alpha: attrs.float(0.2) }) },
  { name: 'Elu alpha 0.5', input: [2, 6], build: (b, x) => b.op1('onnx.Elu', [x], { alpha: attrs.float(0.5) }) },
  { name: 'ReduceL2 over axis 1, keepdims', input: [2, 3, 4], build: (b, x) => b.op1('onnx.ReduceL2', [x], { axes: attrs.ints([1]) }) },
  { name: 'ReduceL2 over every axis, keepdims 0', input: [2, 3], build: (b, x) => b.op1('onnx.ReduceL2', [x], { keepdims: attrs.int(0) }) },
  { name: 'CumSum over axis -1', input: [2, 5], build: (b, x) => b.op1('onnx.CumSum', [x, b.constant(Tensor.fromValues('int64', [], [-1n]), 'axis')]) },
  { name: 'CumSum exclusive over axis 0', input: [4, 3], build: (b, x) => b.op1('onnx.CumSum', [x, b.constant(Tensor.fromValues('int64', [], [0n]), 'axis')], { exclusive: attrs.int(1) }) },
];

describeExportCases({ name: 'activations-export', opset: 13 }, CASES);
