/**
 * ConstantOfShape with bool, int64 and float16 fill values written as TorchScript (QA s13 R1: a GPT's causal mask,
 * a bool ConstantOfShape, was written `torch.full(shape, True, dtype=11)`, which torch 1.13's TorchScript compiler
 * refuses at torch.jit.load: "Expected a value of type 'number' for argument 'fill_value' but instead found type
 * 'bool'"). Constant and computed shapes, and a bool mask broadcast by Expand. Referees: ONNX Runtime on the model,
 * Debian torch on the archive; the archive also reads back into modelpass.
 */
import { attrs, Tensor, type GraphBuilder, type Value } from '@modelpass/ir';
import { describeExportCases, i64, type ExportCase } from './torch/export-cases.js';

const fill = (dtype: 'bool' | 'int64' | 'float16', value: number) =>
  ({ value: attrs.tensor(dtype === 'int64' ? Tensor.fromValues('int64', [1], [BigInt(value)]) : Tensor.fromValues(dtype, [1], [value])) });
/** x where the mask is True, relu(x) where it is False: torch.where takes only a bool condition. */
const where = (b: GraphBuilder, mask: Value, x: Value) => b.op1('onnx.Where', [mask, x, b.op1('onnx.Relu', [x])]);

const CASES: ExportCase[] = [
  {
    name: 'bool True of a computed shape as a Where condition',
    input: [2, 3, 4],
    build: (b, x) => where(b, b.op1('onnx.ConstantOfShape', [b.op1('onnx.Shape', [x])], fill('bool', 1)), x),
  },
  {
    name: 'bool False of a constant shape, Expand-ed to x, as a Where condition',
    input: [2, 3, 4],
    build: (b, x) => {
      const mask = b.op1('onnx.Expand', [b.op1('onnx.ConstantOfShape', [b.constant(i64([1, 4]), 'row')], fill('bool', 0)), b.op1('onnx.Shape', [x])]);
      return where(b, mask, x);
    },
  },
  {
    name: 'bool True of a constant shape, Expand-ed to a constant shape (a causal mask), as a Where condition',
    input: [3, 4],
    build: (b, x) => {
      const mask = b.op1('onnx.Expand', [b.op1('onnx.ConstantOfShape', [b.constant(i64([1, 1]), 'one_one')], fill('bool', 1)), b.constant(i64([3, 4]), 'full')]);
      return where(b, mask, x);
    },
  },
  {
    name: 'int64 fill (computed shape), cast to float, times x',
    input: [2, 5],
    build: (b, x) => b.op1('onnx.Mul', [x, b.op1('onnx.Cast', [b.op1('onnx.ConstantOfShape', [b.op1('onnx.Shape', [x])], fill('int64', -3))], { to: attrs.int(1) })]),
  },
  {
    name: 'float16 fill (constant shape), cast to float, plus x',
    input: [2, 5],
    build: (b, x) => b.op1('onnx.Add', [x, b.op1('onnx.Cast', [b.op1('onnx.ConstantOfShape', [b.constant(i64([2, 5]), 'shape')], fill('float16', 0.375))], { to: attrs.int(1) })]),
  },
];

describeExportCases({ name: 'constant-of-shape-fill-export', opset: 17 }, CASES);
