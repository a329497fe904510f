/**
 * Evaluation of small constant subgraphs during shape inference: a node whose inputs are all
 * constant (initializers, Constant-node outputs, or values already computed this way) and small
 * runs through its reference kernel, so shape arithmetic, Resize scales or Range bounds computed
 * from constants become constants too. Large tensors (weights) are left alone.
 */
import { Tensor, type Model, type Node, type Type } from '@modelpass/ir';
import { kernelFor } from '../op-set.js';
import { dimProduct, shapeOfType } from '../util/inference.js';
import { NEWEST_KNOWN_OPSET } from './run-reference.js';

/** The most elements an evaluated node's inputs and outputs may each have. */
export const MAX_EVALUATED_ELEMENTS = 4096;

/** Ops never evaluated: results that are not a function of the inputs, or that need a body. */
const NOT_EVALUATED: ReadonlySet<string> = new Set(['onnx.If', 'onnx.Loop', 'onnx.Scan', 'onnx.SequenceMap']);

/** Ops whose output size is data-dependent but bounded by their inputs' sizes. */
const BOUNDED_BY_INPUTS: ReadonlySet<string> = new Set(['onnx.NonZero', 'onnx.Unique', 'onnx.Compress']);

/** Whether an inferred output type proves the output small (static shape within the limit). */
function provablySmall(type: Type | undefined): boolean {
  const shape = shapeOfType(type);
  const size = shape ? dimProduct(shape) : null;
  return typeof size === 'number' && size <= MAX_EVALUATED_ELEMENTS;
}

/**
 * The outputs of `node` computed from constant `inputs` (null for omitted optional inputs), or
 * undefined when the node is not evaluated (no kernel, too large, or the kernel refused).
 * `inferred` are the output types inference gave: they must prove every output small, so a
 * ConstantOfShape or Expand never allocates a large tensor here.
 */
export function evaluateConstantNode(
  node: Node,
  inputs: readonly (Tensor | null)[],
  inferred: readonly (Type | undefined)[],
  model: Model,
): (Tensor | undefined)[] | undefined {
  if (node.subgraphs.length > 0 || NOT_EVALUATED.has(node.op)) return undefined;
  const kernel = kernelFor(node.op);
  if (!kernel) return undefined;
  // A dense Constant hands back its attribute tensor (no copy), whatever its size.
  const denseConstant = node.op === 'onnx.Constant' && !node.attributes.has('sparse_value');
  if (!denseConstant) {
    if (inputs.some((input) => input !== null && input.size > MAX_EVALUATED_ELEMENTS)) return undefined;
    if (!BOUNDED_BY_INPUTS.has(node.op) && !node.outputs.every((output, i) => output === null || provablySmall(inferred[i]))) return undefined;
  }
  let outputs;
  try {
    outputs = kernel(inputs, {
      node,
      opset: model.opset(node.dialect) ?? NEWEST_KNOWN_OPSET,
      runSubgraph: () => {
        throw new Error('no subgraphs during constant evaluation');
      },
    });
  } catch {
    // A kernel that refuses constant inputs leaves the node to ordinary inference.
    return undefined;
  }
  return node.outputs.map((_, i) => {
    const value = outputs[i];
    if (!(value instanceof Tensor)) return undefined;
    return denseConstant || value.size <= MAX_EVALUATED_ELEMENTS ? value : undefined;
  });
}
