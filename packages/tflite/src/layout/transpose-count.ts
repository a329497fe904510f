import type { Graph } from '@modelpass/ir';

export interface TransposeCount {
  /** Transposes between two ops of the graph: the ones layout conversion aims to remove. */
  readonly inner: number;
  /** Transposes reading a graph input or writing a graph output. */
  readonly boundary: number;
}

const TRANSPOSE_OPS: ReadonlySet<string> = new Set(['onnx.Transpose', 'tflite.TRANSPOSE']);

/** Counts Transpose ops (canonical or tflite) inside a graph and at its edges. */
export function countTransposes(graph: Graph): TransposeCount {
  let inner = 0;
  let boundary = 0;
  for (const node of graph.nodes()) {
    if (!TRANSPOSE_OPS.has(node.op)) continue;
    if (node.inputs[0]?.isGraphInput || node.outputs[0]?.isGraphOutput) boundary++;
    else inner++;
  }
  return { inner, boundary };
}
