/**
 * Size arithmetic folded while importing. A traced module computes its sizes with tensor ops
 * (`H = NumToTensor(torch.size(x, 1))`, `pad_r = torch.remainder(torch.rsub(torch.remainder(W, 7), 7), 7)`,
 * `int(pad_r)`); with the input shapes given, every operand of those ops is a known constant, so
 * each such node is computed by the canonical op set's reference kernel right away and becomes a
 * constant. `int(pad_r)` is then a known int, and the ops that need one (a Pad's pads, a view's
 * sizes) see it. Only tiny nodes fold (a handful of elements in and out): weights are never read.
 */
import { Tensor, type Node, type Value } from '@modelpass/ir';
import { isRandomOp, kernelFor, type RuntimeValue } from '@modelpass/ops';

/** Most elements of any one input or output of a node folded while importing. */
export const MAX_IMPORT_FOLD_ELEMENTS = 64;

function tinyConstant(value: Value | null): Tensor | null | undefined {
  if (value === null) return null;
  const tensor = value.isConstant ? value.constant : undefined;
  if (!tensor || tensor.quant || tensor.dtype === 'string') return undefined;
  return tensor.shape.reduce((n, d) => n * d, 1) <= MAX_IMPORT_FOLD_ELEMENTS ? tensor : undefined;
}

/**
 * The outputs of `node` computed now, when every input is a tiny constant and its kernel computes
 * tiny tensors; undefined otherwise (the node stays). `opset` is the one the importer writes.
 */
export function foldTinyNode(node: Node, opset: number): Tensor[] | undefined {
  if (node.op === 'onnx.Shape') return staticShape(node);
  if (!node.op.startsWith('onnx.') || node.subgraphs.length > 0 || isRandomOp(node.op)) return undefined;
  const kernel = kernelFor(node.op);
  if (!kernel || node.inputs.length === 0) return undefined;
  const inputs: RuntimeValue[] = [];
  for (const input of node.inputs) {
    const tensor = tinyConstant(input);
    if (tensor === undefined) return undefined;
    inputs.push(tensor);
  }
  let outputs: RuntimeValue[];
  try {
    outputs = kernel(inputs, {
      node,
      opset,
      runSubgraph: () => {
        throw new Error('no subgraphs while folding sizes');
      },
    });
  } catch {
    return undefined; // the node stays; inference and the engines report a real problem where it runs
  }
  if (outputs.length < node.outputs.length) return undefined;
  const tensors: Tensor[] = [];
  for (let i = 0; i < node.outputs.length; i++) {
    const output = outputs[i];
    if (!(output instanceof Tensor) || output.shape.reduce((n, d) => n * d, 1) > MAX_IMPORT_FOLD_ELEMENTS) return undefined;
    tensors.push(output);
  }
  return tensors;
}

/** `Shape(x)` of an x whose dims are all known (`torch._shape_as_tensor` in a traced module): those dims. */
function staticShape(node: Node): Tensor[] | undefined {
  const type = node.inputs[0]?.type;
  const dims = type?.kind === 'tensor' ? type.shape : undefined;
  if (!dims || !dims.every((dim): dim is number => typeof dim === 'number')) return undefined;
  const rank = dims.length;
  const clamp = (index: number): number => Math.min(Math.max(index < 0 ? index + rank : index, 0), rank);
  const start = clamp(node.optionalAttr('start', 'int') ?? 0);
  const end = clamp(node.optionalAttr('end', 'int') ?? rank);
  const picked = dims.slice(start, Math.max(start, end));
  return [Tensor.fromValues('int64', [picked.length], picked.map((dim) => BigInt(dim)))];
}

/** The value of a one-element numeric constant (a folded size), undefined for anything else. */
export function knownScalar(value: Value): number | undefined {
  const tensor = value.isConstant ? value.constant : undefined;
  if (!tensor || tensor.quant || tensor.dtype === 'string' || tensor.dtype.startsWith('complex')) return undefined;
  if (tensor.shape.length > 1 || (tensor.shape.length === 1 && tensor.shape[0] !== 1)) return undefined;
  const number = tensor.toNumbers()[0];
  return number !== undefined && Number.isFinite(number) ? number : undefined;
}

/** The value of an integer scalar constant (a folded size), undefined for anything else. */
export function knownScalarInt(value: Value): number | undefined {
  const tensor = value.isConstant ? value.constant : undefined;
  if (!tensor || !/^u?int/.test(tensor.dtype)) return undefined;
  const number = knownScalar(value);
  return number !== undefined && Number.isSafeInteger(number) ? number : undefined;
}
