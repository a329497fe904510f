/**
 * Round written as TorchScript (s18: raise-tflite spells a CAST of int8 codes — modelpass's int8 lookup tables — as
 * round(real / scale) + zero point, so an int8 .tflite → .pt was refused 'no torch.* spelling for onnx.Round').
 * torch.round and ONNX's Round both round half to even: the halves below check it. Referees: ONNX Runtime on the model,
 * Debian torch on the archive; the archive also reads back into modelpass.
 */
import { Tensor } from '@modelpass/ir';
import { describeExportCases, type ExportCase } from './torch/export-cases.js';

const halves = Tensor.fromValues('float32', [6], [0.5, 1.5, 2.5, -0.5, -1.5, -2.5]);

const CASES: ExportCase[] = [
  { name: 'Round of a scaled input', input: [3, 6], build: (b, x) => b.op1('onnx.Round', [b.op1('onnx.Mul', [x, b.constant(Tensor.fromValues('float32', [], [7.3]), 'k')])]) },
  {
    name: 'Round of exact halves (to even)',
    input: [2, 6],
    build: (b, x) => b.op1('onnx.Round', [b.op1('onnx.Add', [b.op1('onnx.Mul', [x, b.constant(Tensor.fromValues('float32', [], [0]), 'zero')]), b.constant(halves, 'halves')])]),
  },
];

describeExportCases({ name: 'round-export', opset: 13, torchTolerance: () => 1e-6 }, CASES);
