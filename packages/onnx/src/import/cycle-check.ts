import type { Graph, Location, Node } from '@modelpass/ir';
import { onnxError } from '../errors.js';

/**
 * The nodes of `graph` a node depends on: producers of its inputs, and producers of the values
 * its subgraphs (at any depth) read from this graph.
 */
function dependencies(node: Node, graph: Graph): Set<Node> {
  const found = new Set<Node>();
  const visitInputs = (inner: Node): void => {
    for (const input of inner.inputs) {
      const producer = input?.producer;
      if (producer && producer.graph === graph) found.add(producer);
    }
    for (const subgraph of inner.subgraphs) {
      for (const output of subgraph.outputs) {
        if (output.producer?.graph === graph) found.add(output.producer);
      }
      for (const child of subgraph.nodes()) visitInputs(child);
    }
  };
  visitInputs(node);
  return found;
}

/** One dependency cycle among the nodes of `graph`, in data-flow order, or undefined when it has none. */
export function findCycle(graph: Graph): Node[] | undefined {
  const nodes = [...graph.nodes()];
  const deps = new Map<Node, Node[]>(nodes.map((node) => [node, [...dependencies(node, graph)]]));
  const state = new Map<Node, 'open' | 'done'>();
  for (const root of nodes) {
    if (state.has(root)) continue;
    // Iterative depth-first search: the stack is the current path.
    const path: Node[] = [root];
    const next: number[] = [0];
    state.set(root, 'open');
    while (path.length > 0) {
      const node = path[path.length - 1]!;
      const list = deps.get(node)!;
      const index = next[next.length - 1]!;
      if (index >= list.length) {
        state.set(node, 'done');
        path.pop();
        next.pop();
        continue;
      }
      next[next.length - 1] = index + 1;
      const dep = list[index]!;
      const seen = state.get(dep);
      if (seen === 'open') return path.slice(path.indexOf(dep)).reverse();
      if (seen === undefined) {
        state.set(dep, 'open');
        path.push(dep);
        next.push(0);
      }
    }
  }
  return undefined;
}

/**
 * Refuses a graph whose nodes depend on each other in a cycle (ONNX graphs are acyclic; ONNX's
 * checker and ONNX Runtime refuse such files), naming the nodes of one cycle.
 */
export function rejectCycles(graph: Graph, location: Location): void {
  const cycle = findCycle(graph);
  if (!cycle) return;
  const names = cycle.map((node) => `'${node.name}' (${node.op})`);
  throw onnxError({
    reason: `graph '${graph.name}' has a cycle: ${names.join(' → ')} → '${cycle[0]!.name}'`,
    location: { ...location, node: cycle[0]!.name },
    expected: 'an acyclic graph (each node reads only graph inputs, initializers and outputs of earlier nodes)',
    hint: 'the file is corrupt or was produced by a broken exporter',
    code: 'onnx/cycle',
  });
}
