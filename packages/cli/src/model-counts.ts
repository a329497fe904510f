import type { Graph, Model, Tensor } from '@modelpass/ir';
import { packedWeightsOf } from '@modelpass/ops';

/** Sizes of a model that `convert` compares before and after its pipeline (no tensor data is loaded). */
export interface ModelCounts {
  /** Nodes in the main graph and all subgraphs. */
  nodes: number;
  /** Elements in all constants: initializers and `Constant` nodes' tensors; a packed sub-byte weight by the weights it holds. */
  parameters: number;
  /** Bytes of those constants. */
  bytes: number;
  bytesByDtype: Record<string, number>;
  /** Nodes per op (`Conv`; ops of other dialects keep their prefix). */
  ops: Record<string, number>;
}

function tensorBytes(tensor: Tensor): number {
  return tensor.dtype === 'string' ? (tensor.strings ?? []).reduce((sum, text) => sum + Buffer.byteLength(text), 0) : tensor.byteLength;
}

export function countModel(model: Model): ModelCounts {
  const counts: ModelCounts = { nodes: 0, parameters: 0, bytes: 0, bytesByDtype: {}, ops: {} };
  const addTensor = (tensor: Tensor, weights = tensor.size): void => {
    const bytes = tensorBytes(tensor);
    counts.parameters += weights;
    counts.bytes += bytes;
    counts.bytesByDtype[tensor.dtype] = (counts.bytesByDtype[tensor.dtype] ?? 0) + bytes;
  };
  const visit = (graph: Graph): void => {
    for (const value of graph.constants) if (value.constant) addTensor(value.constant, packedWeightsOf(value)?.weights);
    for (const node of graph.nodes()) {
      counts.nodes++;
      if (node.op === 'onnx.Constant') {
        const value = node.getAttribute('value');
        if (value?.kind === 'tensor') addTensor(value.value);
      }
      const op = node.dialect === 'onnx' ? node.opType : node.op;
      counts.ops[op] = (counts.ops[op] ?? 0) + 1;
      for (const subgraph of node.subgraphs) visit(subgraph);
    }
  };
  visit(model.graph);
  return counts;
}
