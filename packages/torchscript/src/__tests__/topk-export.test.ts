/**
 * TopK written as TorchScript, torch.topk (QA s12: a detection post-processing graph and a packed-sequence
 * LSTM could not be written as .pt: 'no torch.* spelling for onnx.TopK'). Values and int64 indices; K
 * a constant or computed at run time (Shape(x)[2] − 1); largest and smallest; any axis. Referees: ONNX
 * Runtime on the model, Debian torch on the archive (values within 1e-6, indices equal); the archive
 * also reads back into modelpass with the same numbers.
 */
import { attrs, GraphBuilder, type Value } from '@modelpass/ir';
import { describeExportCases, type ExportCase, i64 } from './torch/export-cases.js';

function topK(k: (b: GraphBuilder, x: Value) => Value, attributes: Record<string, ReturnType<typeof attrs.int>> = {}): ExportCase['build'] {
  return (b, x) => {
    const [values, indices] = b.op('onnx.TopK', [x, k(b, x)], attributes, { outputs: 2 });
    return b.op1('onnx.Concat', [values!, b.op1('onnx.Cast', [indices!], { to: attrs.int(1) })], { axis: attrs.int(0) });
  };
}
const constantK = (k: number) => (b: GraphBuilder) => b.constant(i64([k]), 'k');

const CASES: ExportCase[] = [
  { name: 'TopK k=3 over the last axis, largest', input: [2, 3, 7], build: topK(constantK(3)) },
  { name: 'TopK k=2 over axis 1, smallest', input: [2, 5, 4], build: topK(constantK(2), { axis: attrs.int(1), largest: attrs.int(0) }) },
  {
    name: 'TopK with K computed at run time (Shape(x)[2] - 1)',
    input: [1, 2, 6],
    build: topK((b, x) => b.op1('onnx.Sub', [b.op1('onnx.Slice', [b.op1('onnx.Shape', [x]), b.constant(i64([2]), 's'), b.constant(i64([3]), 'e')]), b.constant(i64([1]), 'one')])),
  },
];

describeExportCases({ name: 'topk-export', opset: 13 }, CASES);
