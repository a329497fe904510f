import { diagnostic, type Diagnostic } from './diagnostic.js';
import { Builder } from './builder.js';
import type { CreateNodeOptions, Graph } from './graph.js';
import type { Model } from './model.js';
import type { Node } from './node.js';
import type { OpRegistry } from './op-schema.js';
import type { Value } from './value.js';

/** What a pattern may do to the graph while rewriting the node it matched. */
export interface Rewriter {
  /** The graph of the matched node (a subgraph when the node is inside one). */
  readonly graph: Graph;
  /** The model being rewritten, when the driver was given one (`applyPatternsGreedily(…, { model })`). */
  readonly model: Model | undefined;
  /** Op schemas, when the driver was given them (the pass manager's drivers always give them). */
  readonly registry: OpRegistry | undefined;
  /** The model's opset version for `dialect` (default `onnx`); undefined without a model or import. */
  opset(dialect?: string): number | undefined;
  /** A builder inserting just before the matched node (nodes keep the order they are created in). */
  builder(): Builder;
  /** Creates a node just before the matched node (unless `before`/`after` say otherwise). */
  createNode(options: CreateNodeOptions): Node;
  /** Replaces every use of the node's outputs by `values` (in order) and erases it. */
  replaceNode(node: Node, values: readonly (Value | null)[]): void;
  /** Replaces every use of `from` by `to`. */
  replaceValue(from: Value, to: Value): void;
  /** Erases a node whose outputs are unused. */
  eraseNode(node: Node): void;
}

/**
 * A local rewrite: `ops` says which ops it can match (`'*'` for any), `rewrite` returns true when it
 * changed the graph. Patterns are indexed by op, so adding one costs nothing for other ops.
 */
export interface RewritePattern {
  readonly name: string;
  readonly ops: readonly string[] | '*';
  /** Higher benefit patterns are tried first (default 1). */
  readonly benefit?: number;
  rewrite(node: Node, rewriter: Rewriter): boolean;
}

export class PatternSet {
  private readonly byOp = new Map<string, RewritePattern[]>();
  private readonly anyOp: RewritePattern[] = [];
  private readonly all: RewritePattern[] = [];

  constructor(patterns: Iterable<RewritePattern> = []) {
    for (const pattern of patterns) this.add(pattern);
  }

  add(pattern: RewritePattern): this {
    this.all.push(pattern);
    const targets = pattern.ops === '*' ? [this.anyOp] : pattern.ops.map((op) => {
      let list = this.byOp.get(op);
      if (!list) this.byOp.set(op, (list = []));
      return list;
    });
    for (const list of targets) {
      list.push(pattern);
      list.sort((a, b) => (b.benefit ?? 1) - (a.benefit ?? 1));
    }
    return this;
  }

  addAll(patterns: Iterable<RewritePattern>): this {
    for (const pattern of patterns) this.add(pattern);
    return this;
  }

  /** Patterns that may match `op`, best first. */
  forOp(op: string): readonly RewritePattern[] {
    const specific = this.byOp.get(op) ?? [];
    if (this.anyOp.length === 0) return specific;
    return [...specific, ...this.anyOp].sort((a, b) => (b.benefit ?? 1) - (a.benefit ?? 1));
  }

  get size(): number {
    return this.all.length;
  }

  patterns(): readonly RewritePattern[] {
    return this.all;
  }
}

export interface GreedyRewriteOptions {
  /** Maximum sweeps over the graph (default 10). */
  maxIterations?: number;
  /** Maximum rewrites in total (default 10 × node count + 1000), a guard against ping-pong patterns. */
  maxRewrites?: number;
  /** Also rewrite inside subgraphs (default true). */
  subgraphs?: boolean;
  /** The model the graph belongs to: patterns read its opset imports through `rewriter.opset()`. */
  model?: Model;
  /** Op schemas patterns may consult (`rewriter.registry`); also types plain attributes in `rewriter.builder()`. */
  registry?: OpRegistry;
}

export interface GreedyRewriteResult {
  changed: boolean;
  converged: boolean;
  iterations: number;
  rewrites: number;
  /** Rewrites per pattern name. */
  counts: Map<string, number>;
  /** A warning when the bound was hit before a fixed point. */
  diagnostics: Diagnostic[];
}

function makeRewriter(graph: Graph, current: { node: Node | null }, options: GreedyRewriteOptions): Rewriter {
  const { model, registry } = options;
  return {
    graph,
    model,
    registry,
    opset: (dialect = 'onnx') => model?.opset(dialect),
    builder() {
      if (!current.node) return Builder.atEnd(graph, registry ? { registry } : {});
      return Builder.before(current.node, registry ? { registry } : {});
    },
    createNode(options) {
      const placed = options.before || options.after ? options : { ...options, before: current.node ?? undefined };
      return graph.createNode(placed);
    },
    replaceNode(node, values) {
      node.outputs.forEach((output, index) => {
        const replacement = values[index];
        if (output && replacement) output.replaceAllUsesWith(replacement);
      });
      node.erase();
    },
    replaceValue(from, to) {
      from.replaceAllUsesWith(to);
    },
    eraseNode(node) {
      node.erase();
    },
  };
}

/** Applies patterns to a fixed point, sweeping the graph in order until a sweep changes nothing. */
export function applyPatternsGreedily(graph: Graph, patterns: PatternSet, options: GreedyRewriteOptions = {}): GreedyRewriteResult {
  const maxIterations = options.maxIterations ?? 10;
  const result: GreedyRewriteResult = { changed: false, converged: false, iterations: 0, rewrites: 0, counts: new Map(), diagnostics: [] };
  const maxRewrites = options.maxRewrites ?? 10 * countNodes(graph) + 1000;
  sweep: while (result.iterations < maxIterations) {
    result.iterations++;
    let changedThisSweep = false;
    for (const g of graphsIn(graph, options.subgraphs ?? true)) {
      const current: { node: Node | null } = { node: null };
      const rewriter = makeRewriter(g, current, options);
      for (const node of g.nodes()) {
        if (node.graph !== g) continue;
        current.node = node;
        for (const pattern of patterns.forOp(node.op)) {
          if (pattern.rewrite(node, rewriter)) {
            changedThisSweep = true;
            result.rewrites++;
            result.counts.set(pattern.name, (result.counts.get(pattern.name) ?? 0) + 1);
            if (result.rewrites >= maxRewrites) break sweep;
            break;
          }
        }
      }
    }
    if (!changedThisSweep) {
      result.converged = true;
      break;
    }
    result.changed = true;
  }
  if (!result.converged) {
    const top = [...result.counts].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([name, n]) => `${name} (${n}×)`);
    result.diagnostics.push(
      diagnostic({
        severity: 'warning',
        reason: `rewrite patterns did not reach a fixed point in graph '${graph.path()}' after ${result.iterations} sweep(s) and ${result.rewrites} rewrite(s)`,
        notes: top.length ? [`most active patterns: ${top.join(', ')}`] : [],
        hint: 'two patterns may undo each other; raise maxIterations only if the graph is just large',
        source: '@modelpass/ir',
        code: 'rewrite/no-fixed-point',
      }),
    );
  }
  return result;
}

function countNodes(graph: Graph): number {
  let n = 0;
  for (const _ of graph.allNodes()) n++;
  return n;
}

/** The graph and, when asked, every graph nested in it (snapshot, outer first). */
function graphsIn(graph: Graph, nested: boolean): Graph[] {
  const graphs = [graph];
  if (!nested) return graphs;
  for (const node of graph.allNodes()) graphs.push(...node.subgraphs);
  return graphs;
}
