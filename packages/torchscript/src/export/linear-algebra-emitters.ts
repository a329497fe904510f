/** Gemm, MatMul and Einsum as `torch.mm`/`addmm`, `torch.matmul` and `torch.einsum`. */
import { pyFloat, type OpEmitter } from './emit-context.js';
import { binary } from './elementwise-emitters.js';
import { input } from './emit-operands.js';

/**
 * An Einsum equation with its upper-case letters renamed to lower-case ones it does not use (torchvision's MaxViT
 * exports 'BGHID,BGHJD->BGHIJ', which ORT 1.30 and Debian's torch 1.13 both run; ONNX's Einsum spec names lower-case
 * letters only, and the archive then reads back as such an equation); undefined when it holds anything but letters,
 * '...', ',' and '->', or more than 26 distinct letters.
 */
function lowerCaseEinsumEquation(equation: string): string | undefined {
  if (!/^[A-Za-z.,]*(->[A-Za-z.]*)?$/.test(equation)) return undefined;
  const used = new Set(equation.match(/[a-z]/g) ?? []);
  const free = [...'abcdefghijklmnopqrstuvwxyz'].filter((letter) => !used.has(letter));
  const renamed = new Map<string, string>();
  for (const letter of new Set(equation.match(/[A-Z]/g) ?? [])) {
    const target = free.shift();
    if (target === undefined) return undefined;
    renamed.set(letter, target);
  }
  return equation.replace(/[A-Z]/g, (letter) => renamed.get(letter)!);
}

/** Einsum → torch.einsum over the same equation (letters, '...', ',' and '->'; upper-case letters renamed). */
const einsum: OpEmitter = (e, node) => {
  const given = node.attr('equation', 'string').replace(/\s+/g, '');
  const equation = lowerCaseEinsumEquation(given);
  if (equation === undefined) return e.fail(node, `equation '${given}' (letters, '...', ',' and '->' only, at most 26 distinct letters)`);
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
