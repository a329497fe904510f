import type { Graph, InferenceContext, Model, Node, OpRegistry, Type, Value } from '@modelpass/ir';
import { defineAnalysis, type AnalysisDefinition } from './pass.js';

/** The `shapes` analysis: each value's type as the op schemas infer it. */
export interface ShapeFacts {
  /** The inferred type of `value`; its declared type when nothing was inferred (or it is newer than the analysis). */
  typeOf(value: Value): Type;
  /** How many node outputs got an inferred type. */
  readonly inferredCount: number;
}

/** The `uses` analysis: who reads each value, counting reads from inside subgraphs. */
export interface ValueUsers {
  /**
   * Nodes of `value`'s own graph that read it, directly or through a subgraph they hold (an `If`
   * whose branch reads it counts), each once, in graph order.
   */
  usersOf(value: Value): readonly Node[];
  /** Whether anything reads `value`: a user node or an output of its graph or of a nested graph. */
  isUsed(value: Value): boolean;
}

/** The `topological-order` analysis: the position of each node in its graph. */
export interface NodeOrder {
  indexOf(node: Node): number;
  /** True when `a` comes before `b` in the same graph. */
  comesBefore(a: Node, b: Node): boolean;
}

function* graphsOf(graph: Graph): IterableIterator<Graph> {
  yield graph;
  for (const node of graph.allNodes()) yield* node.subgraphs;
}

/** The inferred type, with dims it leaves unknown taken from the declared type (same rank only). */
function refine(inferred: Type, declared: Type): Type {
  if (inferred.kind !== 'tensor' || declared.kind !== 'tensor' || !inferred.shape || !declared.shape) return inferred;
  if (inferred.shape.length !== declared.shape.length || !inferred.shape.includes(null)) return inferred;
  const shape = inferred.shape.map((dim, axis) => dim ?? declared.shape![axis]!);
  return { ...inferred, shape };
}

function inferTypes(model: Model, registry: OpRegistry): ShapeFacts {
  const types = new Map<Value, Type>();
  let inferredCount = 0;
  const typeOf = (value: Value): Type => types.get(value) ?? value.type;
  const visit = (graph: Graph): void => {
    for (const node of graph.nodes()) {
      for (const subgraph of node.subgraphs) visit(subgraph);
      const infer = registry.get(node.op)?.inferTypes;
      if (!infer) continue;
      const context: InferenceContext = {
        node,
        opset: model.opset(node.dialect),
        inputType: (index) => {
          const input = node.inputs[index];
          return input ? typeOf(input) : undefined;
        },
        inputConstant: (index) => node.inputs[index]?.constant,
      };
      let inferred: readonly (Type | undefined)[];
      try {
        inferred = infer(context);
      } catch {
        continue; // the verifier reports nodes inference rejects; the analysis keeps their declared types
      }
      node.outputs.forEach((output, index) => {
        const type = inferred[index];
        if (output && type && type.kind !== 'unknown') {
          types.set(output, refine(type, output.type));
          inferredCount++;
        }
      });
    }
  };
  visit(model.graph);
  return { typeOf, inferredCount };
}

function collectUsers(model: Model): ValueUsers {
  const users = new Map<Value, Node[]>();
  const used = new Set<Value>();
  /** The node of `graph` that is `node` or holds it (through nested subgraphs). */
  const holderIn = (graph: Graph, node: Node): Node | undefined => {
    let current: Node | null = node;
    while (current && current.graph !== graph) current = current.graph?.parentNode ?? null;
    return current ?? undefined;
  };
  const addUser = (value: Value, node: Node | null): void => {
    used.add(value);
    if (!node) return;
    const holder = holderIn(value.graph, node);
    if (!holder) return;
    const list = users.get(value);
    if (!list) users.set(value, [holder]);
    else if (list[list.length - 1] !== holder && !list.includes(holder)) list.push(holder);
  };
  for (const graph of graphsOf(model.graph)) {
    for (const node of graph.nodes()) for (const input of node.inputs) if (input) addUser(input, node);
    for (const output of graph.outputs) addUser(output, graph.parentNode);
  }
  return {
    usersOf: (value) => users.get(value) ?? [],
    isUsed: (value) => used.has(value),
  };
}

function numberNodes(model: Model): NodeOrder {
  const positions = new Map<Node, number>();
  for (const graph of graphsOf(model.graph)) {
    let index = 0;
    for (const node of graph.nodes()) positions.set(node, index++);
  }
  const indexOf = (node: Node): number => positions.get(node) ?? -1;
  return { indexOf, comesBefore: (a, b) => a.graph === b.graph && indexOf(a) >= 0 && indexOf(a) < indexOf(b) };
}

/** Inferred types of every value (op schemas' `inferTypes`); keep it when no value's type changed. */
export const shapesAnalysis: AnalysisDefinition<ShapeFacts> = defineAnalysis({ name: 'shapes', compute: (model, { registry }) => inferTypes(model, registry) });

/** Readers of every value across subgraph boundaries; keep it when no use changed. */
export const usesAnalysis: AnalysisDefinition<ValueUsers> = defineAnalysis({ name: 'uses', compute: (model) => collectUsers(model) });

/** Node positions; keep it when no node was created, erased or moved. */
export const topologicalOrderAnalysis: AnalysisDefinition<NodeOrder> = defineAnalysis({ name: 'topological-order', compute: (model) => numberNodes(model) });

/**
 * The analyses this package defines, by the name `context.preserve([...])` takes:
 * `context.preserve([ANALYSES.shapes.name])` is `context.preserve(['shapes'])`.
 */
export const ANALYSES = Object.freeze({
  shapes: shapesAnalysis,
  uses: usesAnalysis,
  topologicalOrder: topologicalOrderAnalysis,
});
