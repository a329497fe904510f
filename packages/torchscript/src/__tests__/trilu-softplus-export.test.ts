/**
 * Trilu and Softplus written as TorchScript (QA s12: a TransformerDecoder with a causal mask (triu) and a
 * Mish activation (x·tanh(softplus(x))) could not be written as .pt: 'no torch.* spelling for onnx.Trilu /
 * onnx.Softplus'). Referees: ONNX Runtime on the model, Debian torch on the archive; the archive also
 * reads back into modelpass with the same numbers.
 */
import { attrs, Tensor } from '@modelpass/ir';
import { describeExportCases, type ExportCase } from './torch/export-cases.js';

const CASES: ExportCase[] = [
  { name: 'Trilu upper, k = 1', input: [2, 4, 5], build: (b, x) => b.op1('onnx.Trilu', [x, b.constant(Tensor.fromValues('int64', [], [1n]), 'k')]) },
  { name: 'Trilu lower, k = -1', input: [3, 4], build: (b, x) => b.op1('onnx.Trilu', [x, b.constant(Tensor.fromValues('int64', [], [-1n]), 'k')], { upper: attrs.int(0) }) },
  { name: 'Trilu upper without k (main diagonal kept)', input: [4, 4], build: (b, x) => b.op1('onnx.Trilu', [x]) },
  { name: 'Softplus over [-2, 3] and Mish', input: [2, 3, 4], build: (b, x) => b.op1('onnx.Mul', [x, b.op1('onnx.Tanh', [b.op1('onnx.Softplus', [x])])]) },
  { name: 'Softplus of large inputs (30·x)', input: [2, 5], build: (b, x) => b.op1('onnx.Softplus', [b.op1('onnx.Mul', [x, b.constant(Tensor.scalar('float32', 30), 'thirty')])]) },
];

describeExportCases({ name: 'trilu-softplus-export', opset: 14, torchTolerance: (expected) => 1e-5 * (1 + Math.max(...expected.toNumbers().map(Math.abs))) }, CASES);
