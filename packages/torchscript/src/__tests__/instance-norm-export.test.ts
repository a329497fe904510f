/**
 * InstanceNormalization written as TorchScript (QA s12: a UNet with InstanceNorm2d and GroupNorm —
 * torch exports GroupNorm as Reshape → InstanceNormalization → Reshape — could not be written as .pt:
 * 'no torch.* spelling for onnx.InstanceNormalization'). Referees: ONNX Runtime on the model, Debian
 * torch on the archive; the archive also reads back into modelpass with the same numbers.
 */
import { attrs, GraphBuilder, type Value } from '@modelpass/ir';
import { describeExportCases, type ExportCase, seeded, i64 } from './torch/export-cases.js';

const norm = (b: GraphBuilder, x: Value, channels: number, seed: number, epsilon = 1e-5) =>
  b.op1('onnx.InstanceNormalization', [x, b.constant(seeded([channels], seed, 0.5, 1.5), 'scale'), b.constant(seeded([channels], seed + 1), 'bias')], { epsilon: attrs.float(epsilon) });

const CASES: ExportCase[] = [
  { name: 'InstanceNormalization 2-D (rank 4), epsilon 1e-3', input: [2, 3, 4, 5], build: (b, x) => norm(b, x, 3, 11, 1e-3) },
  { name: 'InstanceNormalization 1-D (rank 3)', input: [2, 4, 6], build: (b, x) => norm(b, x, 4, 13) },
  { name: 'InstanceNormalization 3-D (rank 5)', input: [1, 2, 3, 4, 3], build: (b, x) => norm(b, x, 2, 15) },
  {
    name: 'torch GroupNorm export: Reshape [0, G, -1] → InstanceNormalization → Reshape(Shape(x)) → Mul → Add',
    input: [2, 6, 3, 3],
    build: (b, x) => {
      const normalized = norm(b, b.op1('onnx.Reshape', [x, b.constant(i64([0, 3, -1]), 'grouped')]), 3, 17);
      const back = b.op1('onnx.Reshape', [normalized, b.op1('onnx.Shape', [x])]);
      return b.op1('onnx.Add', [b.op1('onnx.Mul', [back, b.constant(seeded([6, 1, 1], 19, 0.5, 1.5), 'gamma')]), b.constant(seeded([6, 1, 1], 20), 'beta')]);
    },
  },
];

describeExportCases({ name: 'instance-norm-export', opset: 13 }, CASES);
