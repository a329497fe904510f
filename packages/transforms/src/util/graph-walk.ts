import type { Graph, Model, Node, Value } from '@modelpass/ir';

/** The main graph and every graph nested in it (If/Loop/Scan bodies), outer first. */
export function graphsOfModel(model: Model): Graph[] {
  const graphs = [model.graph];
  collectSubgraphs(model.graph, graphs);
  return graphs;
}

/**
 * The order `allNodes()` meets them in (a node's subgraphs when it is met, then depth-first into each), by a
 * walk of the links that only looks further at nodes with subgraphs: fold-shapes and fold-constants ask for
 * the graphs nine times per run, and a spread per node of a graph with none cost a quarter of a millisecond each.
 */
function collectSubgraphs(graph: Graph, into: Graph[]): void {
  for (let node = graph.firstNode; node; node = node.next) {
    const subgraphs = node.subgraphs;
    if (subgraphs.length === 0) continue;
    for (let i = 0; i < subgraphs.length; i++) into.push(subgraphs[i]!);
    for (let i = 0; i < subgraphs.length; i++) collectSubgraphs(subgraphs[i]!, into);
  }
}

/** Nodes of the model, subgraphs included. */
export function countNodes(model: Model): number {
  let count = 0;
  for (const _ of model.graph.allNodes()) count++;
  return count;
}

/** Bytes held by constants (initializers) of every graph, plus Constant-node tensors. */
export function constantBytes(model: Model): number {
  let bytes = 0;
  for (const graph of graphsOfModel(model)) {
    for (const value of graph.constants) bytes += value.constant?.byteLength ?? 0;
    for (const node of graph.nodes()) {
      if (node.op !== 'onnx.Constant') continue;
      const attribute = node.getAttribute('value');
      if (attribute?.kind === 'tensor') bytes += attribute.value.byteLength;
    }
  }
  return bytes;
}

/**
 * Erases a node whose outputs are unused, first erasing the nodes of its subgraphs (so their uses of
 * outer values disappear too).
 */
export function eraseDeep(node: Node): void {
  for (const subgraph of node.subgraphs) {
    subgraph.setOutputs([]);
    const inner = [...subgraph.nodes()];
    for (const n of inner) detachSubgraphUses(n);
    for (const n of inner.reverse()) n.erase();
  }
  node.erase();
}

/** Drops every input use of `node` and of the nodes nested in it. */
function detachSubgraphUses(node: Node): void {
  node.setInputs(node.inputs.map(() => null));
  for (const subgraph of node.subgraphs) {
    subgraph.setOutputs([]);
    for (const inner of subgraph.nodes()) detachSubgraphUses(inner);
  }
}

/**
 * Replaces every use of `from` by `to`, keeping graph output names stable: when `from` is a graph
 * output, `to` takes over its name, which is only possible when `to` is a node output of the same
 * graph that is not itself a graph output. Returns false (and changes nothing) when it cannot.
 */
export function replaceValueKeepingOutputNames(from: Value, to: Value): boolean {
  if (from === to) return false;
  if (!from.isGraphOutput) {
    from.replaceAllUsesWith(to);
    return true;
  }
  if (to.graph !== from.graph || to.producer === null || to.isGraphOutput || to.isGraphInput) return false;
  const name = from.name;
  from.replaceAllUsesWith(to, { keepOutputNames: false });
  from.rename(from.graph.uniqueName(`${name}__replaced`));
  to.rename(name);
  if (to.type.kind === 'unknown') to.type = from.type;
  return true;
}

/** True when `value` feeds exactly one node input and is not a graph output. */
export function hasSingleUse(value: Value): boolean {
  return value.useCount === 1 && !value.isGraphOutput;
}

/** Normalizes a possibly negative axis against `rank`; undefined when out of range. */
export function normalizeAxis(axis: number, rank: number): number | undefined {
  const normalized = axis < 0 ? axis + rank : axis;
  return normalized >= 0 && normalized < rank ? normalized : undefined;
}
