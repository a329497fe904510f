/**
 * Whole-model type and shape inference: runs each op's `inferTypes` in node order (subgraphs
 * first, so If/Loop see their bodies' types) and fills in value types. Existing information is kept
 * where it is more specific; disagreements are reported as warnings, never silently overwritten.
 */
import {
  diagnostic,
  formatType,
  tensorType,
  type Diagnostic,
  type Dim,
  type Graph,
  type Model,
  type Node,
  type OpRegistry,
  type Type,
  type Value,
} from '@modelpass/ir';
import { createOpRegistry } from '../op-set.js';

export interface InferShapesResult {
  /** How many value types were set or refined. */
  readonly updated: number;
  /** Conflicts between inferred and declared types, and inference functions that failed (warnings). */
  readonly diagnostics: Diagnostic[];
}

/** Merges an inferred type into an existing one; `conflict` is set when they disagree. */
export function mergeTypes(existing: Type, inferred: Type): { type: Type; conflict?: string } {
  if (existing.kind === 'unknown') return { type: inferred };
  if (inferred.kind === 'unknown') return { type: existing };
  if (existing.kind !== inferred.kind) return { type: existing, conflict: `kind ${existing.kind} vs ${inferred.kind}` };
  if (existing.kind === 'sequence' && inferred.kind === 'sequence') {
    const element = mergeTypes(existing.element, inferred.element);
    return { type: { kind: 'sequence', element: element.type }, ...(element.conflict ? { conflict: element.conflict } : {}) };
  }
  if (existing.kind !== 'tensor' || inferred.kind !== 'tensor') return { type: existing };
  if (existing.dtype !== inferred.dtype) return { type: existing, conflict: `dtype ${existing.dtype} vs ${inferred.dtype}` };
  if (existing.shape === null) return { type: tensorType(existing.dtype, inferred.shape, existing.quant) };
  if (inferred.shape === null) return { type: existing };
  if (existing.shape.length !== inferred.shape.length) return { type: existing, conflict: `rank ${existing.shape.length} vs ${inferred.shape.length}` };
  let conflict: string | undefined;
  const shape: Dim[] = existing.shape.map((dim, i) => {
    const other = inferred.shape![i]!;
    if (dim === null) return other;
    if (typeof dim === 'number' && typeof other === 'number' && dim !== other) conflict = `dim ${i}: ${dim} vs ${other}`;
    return dim;
  });
  return { type: tensorType(existing.dtype, shape, existing.quant), ...(conflict ? { conflict } : {}) };
}

function sameType(a: Type, b: Type): boolean {
  return formatType(a) === formatType(b);
}

class ShapeInference {
  updated = 0;
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    private readonly model: Model,
    private readonly registry: OpRegistry,
  ) {}

  private assign(value: Value, inferred: Type | undefined, node: Node | undefined): void {
    if (!inferred) return;
    const { type, conflict } = mergeTypes(value.type, inferred);
    if (conflict) {
      this.diagnostics.push(
        diagnostic({
          severity: 'warning',
          reason: `inferred type of '${value.name}' disagrees with its declared type (${conflict}); keeping the declared one`,
          expected: formatType(value.type),
          actual: formatType(inferred),
          ...(node ? { location: node.location } : {}),
          source: '@modelpass/ops',
          code: 'infer/conflict',
        }),
      );
    }
    if (!sameType(type, value.type)) {
      value.type = type;
      this.updated++;
    }
  }

  /** Types that a control-flow body's inputs get from its node (Loop: counter, condition, carried values). */
  private seedSubgraph(node: Node, graph: Graph): void {
    if (node.op !== 'onnx.Loop') return;
    const [iteration, condition, ...carried] = graph.inputs;
    if (iteration) this.assign(iteration, tensorType('int64', []), node);
    if (condition) this.assign(condition, tensorType('bool', []), node);
    carried.forEach((value, i) => {
      const initial = node.inputs[i + 2]?.type;
      if (initial && initial.kind === 'tensor') this.assign(value, tensorType(initial.dtype, initial.shape ? initial.shape.map(() => null) : null), node);
      else if (initial) this.assign(value, initial, node);
    });
  }

  graph(graph: Graph): void {
    for (const node of graph.nodes()) {
      for (const subgraph of node.subgraphs) {
        this.seedSubgraph(node, subgraph);
        this.graph(subgraph);
      }
      let inferred: readonly (Type | undefined)[] | undefined;
      try {
        inferred = this.registry.inferNode(node, this.model);
      } catch (error) {
        this.diagnostics.push(
          diagnostic({
            severity: 'warning',
            reason: `type inference failed: ${error instanceof Error ? error.message : String(error)}`,
            location: node.location,
            source: '@modelpass/ops',
            code: 'infer/failed',
            cause: error,
          }),
        );
        continue;
      }
      if (!inferred) continue;
      node.outputs.forEach((value, i) => {
        if (value) this.assign(value, inferred![i], node);
      });
    }
  }
}

/**
 * Runs type inference over the model's graph and its subgraphs, filling value types in place
 * (function bodies are left alone: their attribute references resolve only per call). Uses the canonical registry by default; pass a registry with plugin ops to cover
 * them too.
 */
export function inferShapes(model: Model, registry: OpRegistry = createOpRegistry()): InferShapesResult {
  const inference = new ShapeInference(model, registry);
  inference.graph(model.graph);
  return { updated: inference.updated, diagnostics: inference.diagnostics };
}
