import type { Graph, Model, Type, Value } from '@modelpass/ir';

/**
 * Runs `body` (shape inference, a check on inferred types) and then puts every value's type back as it was —
 * graph inputs, constants and node outputs, subgraphs included — so a look at inferred types leaves the model
 * as the caller had it, even when `body` throws.
 */
export function withTypesRestored<T>(model: Model, body: () => T): T {
  const saved: [Value, Type][] = [];
  saveTypes(model.graph, saved);
  try {
    return body();
  } finally {
    for (const [value, type] of saved) if (value.type !== type) value.type = type;
  }
}

function saveTypes(graph: Graph, into: [Value, Type][]): void {
  for (const value of graph.inputs) into.push([value, value.type]);
  for (const value of graph.constants) into.push([value, value.type]);
  for (const node of graph.nodes()) {
    for (const output of node.outputs) if (output) into.push([output, output.type]);
    for (const subgraph of node.subgraphs) saveTypes(subgraph, into);
  }
}
