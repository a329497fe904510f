import type { Graph, Location, Node } from '@modelpass/ir';
import { onnxError } from '../errors.js';
import { findDirectedCycle } from './directed-cycle.js';

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

/** Whether every node of `node`'s dependencies (as `dependencies` gives them) is in `earlier`. */
function dependsOnlyOn(node: Node, graph: Graph, earlier: ReadonlySet<Node>): boolean {
  for (const input of node.inputs) {
    const producer = input?.producer;
    if (producer && producer.graph === graph && !earlier.has(producer)) return false;
  }
  for (const subgraph of node.subgraphs) {
    for (const output of subgraph.outputs) {
      const producer = output.producer;
      if (producer && producer.graph === graph && !earlier.has(producer)) return false;
    }
    for (const child of subgraph.nodes()) if (!dependsOnlyOn(child, graph, earlier)) return false;
  }
  return true;
}

/**
 * Whether the nodes of `graph`, in their order, each depend only on nodes before them — a topological
 * order, so no cycle. ONNX requires node lists in that order and exporters write them so: the
 * depth-first search (maps, a dependency list per node) is then only needed for the rest.
 */
function inDataFlowOrder(graph: Graph): boolean {
  const earlier = new Set<Node>();
  for (const node of graph.nodes()) {
    if (!dependsOnlyOn(node, graph, earlier)) return false;
    earlier.add(node);
  }
  return true;
}

/** One dependency cycle among the nodes of `graph`, in data-flow order, or undefined when it has none. */
export function findCycle(graph: Graph): Node[] | undefined {
  if (inDataFlowOrder(graph)) return undefined;
  const nodes = [...graph.nodes()];
  const deps = new Map<Node, Node[]>(nodes.map((node) => [node, [...dependencies(node, graph)]]));
  // Walking from a node to what it depends on meets a cycle against data flow: reversed, it reads in data-flow order.
  return findDirectedCycle(nodes, (node) => deps.get(node) ?? [])?.reverse();
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
