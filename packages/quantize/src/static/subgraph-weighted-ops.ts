/**
 * quantize-static plans the main graph only: calibration reads activations as graph outputs, and a
 * value inside an If branch or a Loop body cannot be one. Weighted ops there stay float32; this
 * finds them so the pass can say so by name (silero VAD v5 keeps all its Convs in If branches, and
 * "nothing to quantize" alone read as if it had none).
 */
import type { Model, Node } from '@modelpass/ir';

const WEIGHTED = ['onnx.Conv', 'onnx.ConvTranspose', 'onnx.MatMul', 'onnx.Gemm'];

export interface SubgraphWeightedOps {
  /** Weighted ops (Conv, ConvTranspose, MatMul, Gemm) inside If/Loop/Scan bodies, at any depth. */
  readonly count: number;
  /** The main-graph nodes that hold them (If_0, Loop_3), in order. */
  readonly holders: readonly Node[];
}

export function weightedOpsInSubgraphs(model: Model): SubgraphWeightedOps {
  let count = 0;
  const holders: Node[] = [];
  for (const node of model.graph.nodes()) {
    let inside = 0;
    for (const subgraph of node.subgraphs) inside += [...subgraph.allNodesOf(...WEIGHTED)].length;
    if (inside === 0) continue;
    count += inside;
    holders.push(node);
  }
  return { count, holders };
}

/** "6 Conv/MatMul/Gemm inside the subgraphs of If 'If_0'" (undefined when there are none). */
export function describeSubgraphWeightedOps(found: SubgraphWeightedOps): string | undefined {
  if (found.count === 0) return undefined;
  const shown = found.holders.slice(0, 3).map((node) => `${node.op.replace(/^onnx\./, '')} '${node.name}'`);
  const more = found.holders.length > 3 ? ` and ${found.holders.length - 3} more` : '';
  return `${found.count} Conv/MatMul/Gemm node(s) inside the subgraphs of ${shown.join(', ')}${more}`;
}
