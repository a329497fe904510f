/**
 * Control-flow bodies made into TFLite regions: a TFLite subgraph sees only its own inputs and
 * constants, so the values a body reads from enclosing graphs (its captures, at any nesting depth)
 * become inputs of the region, or copies of the constants (the writer stores a constant tensor once,
 * whichever subgraphs use it). A region is lowered as a model of its own (`regionModel`).
 */
import { Model, type Graph, type Node, type Use, type Value } from '@modelpass/ir';

/** Whether `graph` is `root` or nested (through node attributes) inside it. */
export function isWithin(graph: Graph | null | undefined, root: Graph): boolean {
  for (let current = graph ?? null; current; current = current.parentGraph) if (current === root) return true;
  return false;
}

/** The graph in which `use` reads its value: the node's graph, or the graph whose output it is. */
function graphOfUse(use: Use): Graph | null {
  const node = use.node;
  return node ? node.graph : (use.user as Graph);
}

/** Values read inside `body` (its nodes, nested bodies and outputs) but defined outside it, in first-use order. */
export function capturedValues(body: Graph): Value[] {
  const seen = new Set<Value>();
  const visitValue = (value: Value | null | undefined): void => {
    if (value && !seen.has(value) && !isWithin(value.graph, body)) seen.add(value);
  };
  const visitGraph = (graph: Graph): void => {
    for (const node of graph.nodes()) {
      node.inputs.forEach(visitValue);
      for (const sub of node.subgraphs) visitGraph(sub);
    }
    graph.outputs.forEach(visitValue);
  };
  visitGraph(body);
  return [...seen];
}

/**
 * Rewires every read of `captures` inside `body` (nested bodies included) to region-local values:
 * constants become constants of `body` (same tensor), the rest new inputs of `body`, appended in
 * order (with `allInputs`, also the ones `body` does not read: IF gives both branches one operand
 * list). Returns the captures passed in and the inputs that stand for them.
 */
export function bindCaptures(body: Graph, captures: readonly Value[], options: { readonly allInputs?: boolean } = {}): { passedIn: Value[]; inputs: Value[] } {
  const passedIn: Value[] = [];
  const inputs: Value[] = [];
  const inside = (use: Use): boolean => isWithin(graphOfUse(use), body);
  for (const capture of captures) {
    const used = [...capture.uses].some(inside);
    if (capture.isConstant && capture.constant) {
      if (used) capture.replaceUsesWith(body.addConstant(body.uniqueName(capture.name), capture.constant), inside);
      continue;
    }
    if (!used && !options.allInputs) continue;
    const local = body.addInput(body.uniqueName(capture.name), capture.type);
    capture.replaceUsesWith(local, inside);
    passedIn.push(capture);
    inputs.push(local);
  }
  return { passedIn, inputs };
}

/**
 * Renames the values of `region` (nested graphs included) whose names an enclosing graph also
 * defines: ONNX bodies built apart may reuse a name of the outer graph, and a lowering that moves
 * a name within the region must find it free in every enclosing graph.
 */
export function renameShadowedValues(region: Graph): void {
  const outer = region.parentGraph;
  if (!outer) return;
  const visit = (graph: Graph): void => {
    for (const value of [...graph.definedValues()]) if (outer.lookup(value.name)) value.rename(graph.uniqueName(`${value.name}_in_${region.name}`));
    for (const node of graph.nodes()) for (const sub of node.subgraphs) visit(sub);
  };
  visit(region);
}

/** `graph` as a model of its own (the opsets of `model`), so the legalization steps can run on a region. */
export function regionModel(graph: Graph, model: Model): Model {
  const region = new Model(graph);
  for (const [dialect, version] of model.opsetImports) region.opsetImports.set(dialect, version);
  region.sourcePath = model.sourcePath;
  return region;
}

/** The regions of `node` that still hold canonical (non-tflite) nodes, nested ones included. */
export function canonicalRegions(node: Node): Graph[] {
  const holdsCanonical = (graph: Graph): boolean => {
    for (const inner of graph.allNodes()) if (!inner.op.startsWith('tflite.')) return true;
    return false;
  };
  return node.op.startsWith('tflite.') ? node.subgraphs.filter(holdsCanonical) : [];
}
