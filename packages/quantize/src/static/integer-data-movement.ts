/**
 * Data-movement ops on the integers, in QDQ form: `DQ(q) → Reshape → Q(same scale, zero point)`
 * becomes `Reshape(q)` (the DequantizeLinear after it stays). Reshape, Flatten, Squeeze, Unsqueeze
 * and Transpose only move elements, so moving them before the DequantizeLinear gives the same codes
 * and the same floats — and ORT does exactly this itself when it fuses the QDQ group (it drops the
 * DQ/Q pair around such an op). Writing it that way saves a DequantizeLinear and a QuantizeLinear
 * (~90 bytes each pair) per op: fashion-resnet's Flatten before its Gemm, the transformer's
 * attention Reshapes and Transposes. Graph outputs are never touched.
 */
import type { Graph, Node, Value } from '@modelpass/ir';

const INTEGER_DATA_MOVEMENT = new Set(['onnx.Reshape', 'onnx.Flatten', 'onnx.Squeeze', 'onnx.Unsqueeze', 'onnx.Transpose']);

function sameConstant(a: Value | null | undefined, b: Value | null | undefined): boolean {
  if (a === b) return true;
  const [x, y] = [a?.constant, b?.constant];
  if (!x || !y || x.dtype !== y.dtype || x.shape.join(',') !== y.shape.join(',')) return false;
  const [u, v] = [x.toNumbers(), y.toNumbers()];
  return u.every((value, i) => value === v[i]);
}

/** The DequantizeLinear of an activation (not a constant) with per-tensor parameters that `node` reads at input 0. */
function activationDequantize(node: Node): Node | undefined {
  const dq = node.inputs[0]?.producer;
  if (!dq || dq.op !== 'onnx.DequantizeLinear' || dq.inputs[0]?.isConstant) return undefined;
  if ((dq.inputs[1]?.constant?.size ?? 0) !== 1) return undefined;
  return dq;
}

/** The one QuantizeLinear reading `value`, with the same scale and zero point as `dq`. */
function matchingQuantize(value: Value, dq: Node): Node | undefined {
  if (value.isGraphOutput || value.uses.size !== 1) return undefined;
  const use = [...value.uses][0]!;
  const q = use.node;
  if (!q || q.op !== 'onnx.QuantizeLinear' || use.index !== 0) return undefined;
  if (!sameConstant(q.inputs[1], dq.inputs[1])) return undefined;
  const [qZero, dqZero] = [q.inputs[2], dq.inputs[2]];
  if (qZero || dqZero ? !sameConstant(qZero, dqZero) : false) return undefined;
  // The integer type must be the same on both sides (a QuantizeLinear without a zero point writes uint8).
  const [from, to] = [dq.inputs[0]!.type, q.output(0).type];
  if (from.kind !== 'tensor' || to.kind !== 'tensor' || from.dtype !== to.dtype) return undefined;
  return q;
}

export interface IntegerDataMovement {
  readonly node: Node;
  /** The name of the QuantizeLinear's output that the op's own (now integer) output replaced. */
  readonly replaced: string;
}

/** Rewrites every such op in `graph` to read and write the integers; returns the ops rewritten. */
export function dataMovementOnIntegers(graph: Graph): IntegerDataMovement[] {
  const rewritten: IntegerDataMovement[] = [];
  for (const node of [...graph.nodes()]) {
    if (!INTEGER_DATA_MOVEMENT.has(node.op) || node.outputs.length !== 1) continue;
    const dq = activationDequantize(node);
    const output = node.output(0);
    const q = dq ? matchingQuantize(output, dq) : undefined;
    if (!dq || !q) continue;
    const integers = dq.inputs[0]!;
    const quantized = q.output(0);
    const replaced = quantized.name;
    node.setInput(0, integers);
    const integerType = integers.type;
    if (output.type.kind === 'tensor' && integerType.kind === 'tensor') output.type = { ...output.type, dtype: integerType.dtype };
    quantized.replaceAllUsesWith(output);
    const parameters = [...q.inputs.slice(1), ...dq.inputs.slice(1)];
    q.erase();
    if (dq.output(0).uses.size === 0) dq.erase();
    for (const value of parameters) if (value?.isConstant && value.uses.size === 0 && !value.isGraphOutput) graph.removeConstant(value);
    rewritten.push({ node, replaced });
  }
  return rewritten;
}
