import { attrs, Tensor, type Graph, type Model, type Node, type Value } from '@modelpass/ir';
import { kernelFor, type RuntimeValue } from '@modelpass/ops';
import { constantNodeTensor, constantOf } from './constants.js';
import { graphsOfModel } from './graph-walk.js';

/** Ops whose outputs change from run to run: never folded. */
export const RANDOM_OPS: ReadonlySet<string> = new Set([
  'onnx.RandomNormal',
  'onnx.RandomNormalLike',
  'onnx.RandomUniform',
  'onnx.RandomUniformLike',
  'onnx.Multinomial',
  'onnx.Bernoulli',
]);

export interface FoldOptions {
  /** Largest folded output in bytes, unless it is no larger than the inputs it replaces. */
  maxSize: number;
  /** Which nodes to try (default: every onnx node with a kernel and constant inputs). */
  filter?: (node: Node) => boolean;
  debug(message: string): void;
}

export interface FoldResult {
  nodesFolded: number;
  constantNodesMaterialized: number;
}

function tensorBytes(tensor: Tensor): number {
  return tensor.dtype === 'string' ? (tensor.strings ?? []).reduce((n, s) => n + s.length, 0) : tensor.byteLength;
}

/**
 * Replaces `value` by a constant holding `tensor`, under the same name. Graph outputs keep being
 * produced by a node (an `onnx.Constant`), since an initializer cannot be a graph output everywhere.
 */
export function replaceWithConstant(value: Value, tensor: Tensor, before: Node): Value {
  const graph = value.graph;
  const name = value.name;
  value.rename(graph.uniqueName(`${name}__folded`));
  let replacement: Value;
  if (value.isGraphOutput) {
    const node = graph.createNode({ op: 'onnx.Constant', attributes: { value: attrs.tensor(tensor) }, outputs: [{ name, type: typeOfTensor(tensor) }], before });
    replacement = node.output(0);
  } else {
    replacement = graph.addConstant(name, tensor);
  }
  value.replaceAllUsesWith(replacement);
  return replacement;
}

function typeOfTensor(tensor: Tensor) {
  return { kind: 'tensor' as const, dtype: tensor.dtype, shape: tensor.shape };
}

/** Runs the reference kernel of `node` on constant inputs; undefined when it cannot. */
export function evaluateConstantNode(node: Node, model: Model, debug: (m: string) => void): Tensor[] | undefined {
  const kernel = kernelFor(node.op);
  if (!kernel) return undefined;
  const inputs: RuntimeValue[] = [];
  for (const input of node.inputs) {
    if (!input) {
      inputs.push(null);
      continue;
    }
    const tensor = constantOf(input);
    if (!tensor) return undefined;
    inputs.push(tensor);
  }
  let outputs: RuntimeValue[];
  try {
    outputs = kernel(inputs, {
      node,
      opset: model.opset(node.dialect) ?? 17,
      runSubgraph: () => {
        throw new Error('subgraphs are not folded');
      },
    });
  } catch (error) {
    debug(`fold-constants: left ${node.op} '${node.name}' alone: its reference kernel failed: ${(error as Error).message}`);
    return undefined;
  }
  const tensors: Tensor[] = [];
  for (let i = 0; i < node.outputs.length; i++) {
    const output = outputs[i];
    if (!node.outputs[i]) continue;
    if (!(output instanceof Tensor)) {
      debug(`fold-constants: left ${node.op} '${node.name}' alone: output #${i} is not a tensor`);
      return undefined;
    }
    tensors[i] = output;
  }
  return tensors;
}

/** Folds nodes with constant inputs into constants, in every graph; materializes Constant nodes. */
export function foldConstants(model: Model, options: FoldOptions): FoldResult {
  const result: FoldResult = { nodesFolded: 0, constantNodesMaterialized: 0 };
  for (const graph of graphsOfModel(model)) foldGraph(graph, model, options, result);
  return result;
}

function foldGraph(graph: Graph, model: Model, options: FoldOptions, result: FoldResult): void {
  for (const node of graph.nodes()) {
    if (node.graph !== graph) continue;
    if (node.op === 'onnx.Constant') {
      const output = node.outputs[0];
      const tensor = constantNodeTensor(node);
      if (!output || !tensor || output.isGraphOutput) continue;
      replaceWithConstant(output, tensor, node);
      node.erase();
      result.constantNodesMaterialized++;
      continue;
    }
    if (node.dialect !== 'onnx' || RANDOM_OPS.has(node.op) || node.subgraphs.length > 0 || node.outputs.length === 0) continue;
    if (!node.inputs.every((input) => input === null || constantOf(input) !== undefined)) continue;
    if (options.filter && !options.filter(node)) continue;
    if (!kernelFor(node.op)) continue;
    const outputs = evaluateConstantNode(node, model, options.debug);
    if (!outputs) continue;
    const inputBytes = node.inputs.reduce((n, v) => n + (v ? tensorBytes(constantOf(v)!) : 0), 0);
    const outputBytes = outputs.reduce((n, t) => n + (t ? tensorBytes(t) : 0), 0);
    if (outputBytes > options.maxSize && outputBytes > inputBytes) {
      options.debug(`fold-constants: left ${node.op} '${node.name}' alone: folded output of ${outputBytes} bytes exceeds max-size ${options.maxSize}`);
      continue;
    }
    node.outputs.forEach((output, i) => {
      if (output && outputs[i]) replaceWithConstant(output, outputs[i]!, node);
    });
    node.erase();
    result.nodesFolded++;
  }
}
