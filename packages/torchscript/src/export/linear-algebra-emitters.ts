/** Gemm, MatMul and Einsum as `torch.mm`/`addmm`, `torch.matmul` and `torch.einsum`. */
import { pyFloat, type OpEmitter } from './emit-context.js';
import { binary } from './elementwise-emitters.js';
import { input } from './emit-operands.js';

/** Einsum → torch.einsum over the same equation (letters, '...', ',' and '->'). */
const einsum: OpEmitter = (e, node) => {
  const equation = node.attr('equation', 'string').replace(/\s+/g, '');
  if (!/^[a-z.,]*(->[a-z.]*)?$/.test(equation)) return e.fail(node, `equation '${equation}' (lower-case letters, '...', ',' and '->' only)`);
  e.assign(node, `torch.einsum("${equation}", [${node.inputs.map((value) => e.name(value)).join(', ')}])`);
};

const gemm: OpEmitter = (e, node) => {
  const a = node.attr('transA', 'int', 0) ? `torch.t(${input(e, node)})` : input(e, node);
  const b = node.attr('transB', 'int', 0) ? `torch.t(${input(e, node, 1)})` : input(e, node, 1);
  const alpha = node.attr('alpha', 'float', 1);
  const beta = node.attr('beta', 'float', 1);
  if (!node.inputs[2]) {
    e.assign(node, alpha === 1 ? `torch.mm(${a}, ${b})` : `torch.mul(torch.mm(${a}, ${b}), ${pyFloat(alpha)})`);
    return;
  }
  e.assign(node, `torch.addmm(${input(e, node, 2)}, ${a}, ${b}, beta=${pyFloat(beta)}, alpha=${pyFloat(alpha)})`);
};

export const linearAlgebraEmitters: ReadonlyArray<[string, OpEmitter]> = [
  ['onnx.Gemm', gemm],
  ['onnx.MatMul', binary('torch.matmul')],
  ['onnx.Einsum', einsum],
];
