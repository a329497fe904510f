import type { Graph, Model, Node, Value } from '@modelpass/ir';
import { eraseDeep, graphsOfModel } from './graph-walk.js';

/** Ops without observable effects beyond their outputs: safe to erase when nothing reads them. */
function isRemovableWhenUnused(node: Node): boolean {
  const outputs = node.outputs;
  if (outputs.length === 0) return false;
  // A loop, not a closure: asked of every node by each snapshot and sweep.
  for (let i = 0; i < outputs.length; i++) {
    const output = outputs[i];
    if (output !== null && output !== undefined && output.hasUses) return false;
  }
  return true;
}

export interface DeadCodeResult {
  nodesRemoved: number;
  constantsRemoved: number;
  bytesSaved: number;
}

export interface DeadCodeOptions {
  /** Only erase nodes / constants for which this holds (default: all dead ones). */
  filter?: (item: Node | Value) => boolean;
  /** Also remove unused constants (initializers that are not graph inputs). Default true. */
  constants?: boolean;
}

/**
 * Erases nodes whose outputs nobody reads and constants nobody uses, to a fixed point, innermost
 * subgraphs first. Graph inputs and outputs are never touched.
 */
export function removeDeadCode(model: Model, options: DeadCodeOptions = {}): DeadCodeResult {
  const result: DeadCodeResult = { nodesRemoved: 0, constantsRemoved: 0, bytesSaved: 0 };
  const filter = options.filter ?? (() => true);
  let changed = true;
  while (changed) {
    changed = false;
    const graphs = graphsOfModel(model).reverse();
    for (const graph of graphs) {
      if (graph !== model.graph && !isAttached(graph, model)) continue;
      changed = sweepGraph(graph, filter, result) || changed;
      if (options.constants ?? true) changed = sweepConstants(graph, filter, result) || changed;
    }
    // One graph in topological order is clean after one sweep: walking it backwards erases a reader before its
    // producers are looked at, and removing constants frees no node. Only subgraphs (a body emptied, a capture
    // dropped) can leave work for another round.
    if (graphs.length === 1) break;
  }
  return result;
}

function isAttached(graph: Graph, model: Model): boolean {
  for (let g: Graph | null = graph; g; g = g.parentGraph) {
    if (g === model.graph) return true;
    const parent = g.parentNode;
    if (parent && parent.graph === null) return false;
  }
  return false;
}

function sweepGraph(graph: Graph, filter: (item: Node | Value) => boolean, result: DeadCodeResult): boolean {
  let changed = false;
  for (let node = graph.lastNode; node; ) {
    const prev = node.prev;
    if (isRemovableWhenUnused(node) && filter(node)) {
      result.nodesRemoved += 1 + countNested(node);
      eraseDeep(node);
      changed = true;
    }
    node = prev;
  }
  return changed;
}

function countNested(node: Node): number {
  let n = 0;
  for (const subgraph of node.subgraphs) for (const _ of subgraph.allNodes()) n++;
  return n;
}

function sweepConstants(graph: Graph, filter: (item: Node | Value) => boolean, result: DeadCodeResult): boolean {
  let changed = false;
  for (const value of [...graph.constants]) {
    if (value.hasUses || value.isGraphInput || !filter(value)) continue;
    result.bytesSaved += value.constant?.byteLength ?? 0;
    graph.removeConstant(value);
    result.constantsRemoved++;
    changed = true;
  }
  return changed;
}

/** Values (node outputs and constants) that already have no uses: dead code a pass did not make. */
export function snapshotDead(model: Model): Set<Node | Value> {
  const dead = new Set<Node | Value>();
  for (const graph of graphsOfModel(model)) {
    for (let node = graph.firstNode; node; node = node.next) if (isRemovableWhenUnused(node)) dead.add(node);
    for (const value of graph.constants) if (!value.hasUses) dead.add(value);
  }
  return dead;
}
