import { Tensor, dtypeFromOnnxCode, type DType, type Graph, type Node, type Rewriter, type Value } from '@modelpass/ir';
import { constantOf, intsOf, shapeOf } from '../util/constants.js';
import { replaceValueKeepingOutputNames } from '../util/graph-walk.js';

/**
 * Replaces the node's single output by `value` (keeping graph output names) and erases the node.
 * Returns false when the replacement would rename a graph output it cannot rename.
 */
export function forwardOutput(node: Node, value: Value, rewriter: Rewriter): boolean {
  const output = node.outputs[0];
  if (!output) return false;
  if (node.outputs.slice(1).some((extra) => extra && extra.hasUses)) return false;
  if (!replaceValueKeepingOutputNames(output, value)) return false;
  rewriter.eraseNode(node);
  return true;
}

/** Swaps `node` for `replacement`'s output 0 (already created), keeping output names. */
export function replaceWithNode(node: Node, replacement: Node, rewriter: Rewriter): boolean {
  const output = node.output(0);
  const fresh = replacement.output(0);
  if (fresh.type.kind === 'unknown') fresh.type = output.type;
  if (!replaceValueKeepingOutputNames(output, fresh)) {
    rewriter.eraseNode(replacement);
    return false;
  }
  if (!fresh.isGraphOutput && fresh.graph === output.graph) {
    // the replacement's output takes over the replaced value's name, so the IR reads as before
    const name = output.name;
    output.rename(output.graph.uniqueName(`${name}__replaced`));
    fresh.rename(name);
  }
  rewriter.eraseNode(node);
  return true;
}

/**
 * After a fusion: when `old` (the constant that `fresh` replaces, e.g. a conv weight) has no uses
 * left, removes it and gives its name to `fresh`, so a fused model keeps its initializer names.
 */
export function adoptConstantName(fresh: Value, old: Value | null | undefined): void {
  if (!old || old === fresh || old.graph !== fresh.graph || !old.isConstant || old.isGraphInput || old.hasUses) return;
  const name = old.name;
  old.graph.removeConstant(old);
  fresh.rename(name);
}

/** Adds a constant to `graph` under a fresh name derived from `base`. */
export function addConstant(graph: Graph, base: string, tensor: Tensor): Value {
  return graph.addConstant(graph.uniqueName(base), tensor);
}

export function int64Vector(values: readonly number[]): Tensor {
  return Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));
}

/** The onnx opset of the model the node is in (undefined when not imported). */
export function onnxOpset(env: { model: { opset(dialect?: string): number | undefined } }): number | undefined {
  return env.model.opset('onnx');
}

/**
 * An int-list operand that moved from an attribute to an input over opsets (Squeeze/Unsqueeze
 * axes, Pad pads, Slice starts...). `null` when absent in both places, undefined when present but
 * not constant.
 */
export function intsAttributeOrInput(node: Node, attribute: string, inputIndex: number): number[] | null | undefined {
  const attr = node.getAttribute(attribute);
  if (attr?.kind === 'ints') return [...attr.value];
  const input = node.inputs[inputIndex];
  if (!input) return null;
  return intsOf(input);
}

/** The dtype named by a Cast-style `to` attribute. */
export function dtypeOfToAttribute(node: Node): DType | undefined {
  const to = node.getAttribute('to');
  if (to?.kind !== 'int') return undefined;
  return dtypeFromOnnxCode(to.value);
}

/**
 * True when broadcasting a value of shape `shape` with a constant of `constShape` yields `shape`
 * again (so an elementwise op with an identity element leaves the shape alone).
 */
export function broadcastKeepsShape(shape: readonly (number | string | null)[] | undefined, constShape: readonly number[]): boolean {
  if (constShape.length === 0) return true;
  if (!shape || constShape.length > shape.length) return false;
  const offset = shape.length - constShape.length;
  return constShape.every((dim, i) => dim === 1 || dim === shape[i + offset]);
}

/** The non-constant operand and the constant operand of a binary op, in either order. */
export function splitConstantOperand(
  node: Node,
  commutative: boolean,
): { variable: Value; constant: Tensor; constantIndex: number } | undefined {
  const [a, b] = node.inputs;
  if (!a || !b) return undefined;
  const cb = constantOf(b);
  if (cb) return { variable: a, constant: cb, constantIndex: 1 };
  if (!commutative) return undefined;
  const ca = constantOf(a);
  if (ca) return { variable: b, constant: ca, constantIndex: 0 };
  return undefined;
}

export { shapeOf };
