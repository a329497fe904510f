import type { Graph, Node, Value } from '@modelpass/ir';
import { isRandomOp } from '@modelpass/ops';
import { definePass, option } from '@modelpass/pass-manager';
import { attributeFingerprint, tensorFingerprint } from '../util/fingerprint.js';
import { replaceValueKeepingOutputNames } from '../util/graph-walk.js';
import { removeDeadCode, snapshotDead } from '../util/dead-code.js';
import { preserved } from './pattern-pass.js';

/** Ops whose outputs differ from call to call (the random ops, and Dropout's mask): never merged. */
function isNondeterministic(op: string): boolean {
  return isRandomOp(op) || op === 'onnx.Dropout';
}

/** Lexically scoped table: a subgraph sees what its enclosing graph computed before its node. */
class Scope<T> {
  private readonly entries = new Map<string, T>();
  constructor(private readonly parent?: Scope<T>) {}
  get(key: string): T | undefined {
    return this.entries.get(key) ?? this.parent?.get(key);
  }
  set(key: string, value: T): void {
    this.entries.set(key, value);
  }
}

class CommonSubexpressions {
  readonly ids = new WeakMap<Value, number>();
  private nextId = 0;
  nodesMerged = 0;
  constantsMerged = 0;
  constructor(private readonly mergeConstants: boolean) {}

  private id(value: Value | null): string {
    if (!value) return '_';
    let id = this.ids.get(value);
    if (id === undefined) this.ids.set(value, (id = this.nextId++));
    return String(id);
  }

  private nodeKey(node: Node): string | undefined {
    if (node.dialect !== 'onnx' || isNondeterministic(node.op) || node.outputs.length === 0) return undefined;
    if (node.subgraphs.length > 0) return undefined;
    const attributes: string[] = [];
    for (const [name, attribute] of [...node.attributes].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const key = attributeFingerprint(attribute);
      if (key === undefined) return undefined;
      attributes.push(`${name}=${key}`);
    }
    const outputs = node.outputs.map((o) => (o ? '1' : '0')).join('');
    return `${node.op}(${node.inputs.map((v) => this.id(v)).join(',')})[${attributes.join(';')}]${outputs}|${node.overload ?? ''}`;
  }

  graph(graph: Graph, scope: Scope<Value[]>): void {
    if (this.mergeConstants) this.constants(graph, scope);
    for (const node of graph.nodes()) {
      if (node.subgraphs.length > 0) {
        for (const subgraph of node.subgraphs) this.graph(subgraph, new Scope(scope));
        continue;
      }
      const key = this.nodeKey(node);
      if (key === undefined) continue;
      const earlier = scope.get(key);
      if (!earlier) {
        scope.set(key, node.outputs.map((o) => o!));
        continue;
      }
      if (this.replaceOutputs(node, earlier)) this.nodesMerged++;
    }
  }

  private replaceOutputs(node: Node, earlier: readonly Value[]): boolean {
    const outputs = node.outputs;
    // All-or-nothing: check renames first (a graph output can only take over a node output).
    for (let i = 0; i < outputs.length; i++) {
      const from = outputs[i];
      const to = earlier[i];
      if (!from || !to) continue;
      if (from.isGraphOutput && (to.graph !== from.graph || to.isGraphOutput || to.producer === null)) return false;
    }
    outputs.forEach((from, i) => {
      if (from && earlier[i]) replaceValueKeepingOutputNames(from, earlier[i]!);
    });
    return true;
  }

  constants(graph: Graph, scope: Scope<Value[]>): void {
    for (const value of graph.constants) {
      if (!value.isConstant || !value.constant) continue;
      const earlier = this.earlierEqualConstant(value, scope);
      if (!earlier) continue;
      if (value.isGraphOutput) continue;
      value.replaceAllUsesWith(earlier);
      this.constantsMerged++;
    }
  }

  /**
   * An equal constant seen before (in this graph or an enclosing one), else undefined after
   * recording `value`. Small tensors are found by content hash; large ones (over one chunk) are
   * compared chunk by chunk with the earlier ones of the same dtype, shape and quantization, which
   * stops at the first differing chunk instead of hashing gigabytes.
   */
  private earlierEqualConstant(value: Value, scope: Scope<Value[]>): Value | undefined {
    const tensor = value.constant!;
    if (tensor.dtype === 'string' || tensor.byteLength <= LARGE_CONSTANT_BYTES) {
      const key = `const:${tensorFingerprint(tensor)}`;
      const earlier = scope.get(key)?.[0];
      if (!earlier) scope.set(key, [value]);
      return earlier;
    }
    const key = `const-large:${tensor.dtype}[${tensor.shape.join(',')}]${JSON.stringify(tensor.quant ?? null)}`;
    const candidates = scope.get(key) ?? [];
    const earlier = candidates.find((candidate) => candidate.constant!.equals(tensor));
    if (!earlier) scope.set(key, [...candidates, value]);
    return earlier;
  }
}

/** Constants above this size (bytes) are compared directly instead of hashed (16 MiB: one read chunk). */
const LARGE_CONSTANT_BYTES = 16 << 20;

export const cse = definePass({
  name: 'cse',
  summary: 'Merge nodes computing the same op on the same inputs with the same attributes, and identical constants',
  description:
    'Walks graphs in order with a scoped table, so an expression inside an If/Loop body is merged with the same expression ' +
    'computed earlier in an enclosing graph. Random ops, foreign-dialect ops and nodes with subgraphs are never merged.',
  options: {
    mergeConstants: option.boolean({
      default: true,
      help: 'also merge identical initializers (simplify turns this off and leaves initializers to eliminate-duplicate-initializers)',
    }),
  },
  statistics: ['nodes-removed', 'constants-merged', 'bytes-saved'],
  run(model, context) {
    const dead = snapshotDead(model);
    const pass = new CommonSubexpressions(context.options.mergeConstants);
    pass.graph(model.graph, new Scope());
    const cleanup = removeDeadCode(model, { filter: (item) => !dead.has(item) });
    context.statistic('nodes-removed', cleanup.nodesRemoved);
    context.statistic('constants-merged', pass.constantsMerged);
    context.statistic('bytes-saved', cleanup.bytesSaved);
    return preserved(context, pass.nodesMerged + pass.constantsMerged > 0);
  },
});

/** Merges initializers with the same dtype, shape and bytes into one (no node merging). */
export const eliminateDuplicateInitializers = definePass({
  name: 'eliminate-duplicate-initializers',
  summary: 'Keep one initializer per distinct tensor (same dtype, shape and bytes)',
  statistics: ['constants-merged', 'bytes-saved'],
  run(model, context) {
    const dead = snapshotDead(model);
    const pass = new CommonSubexpressions(true);
    mergeConstantsOnly(pass, model.graph, new Scope());
    const cleanup = removeDeadCode(model, { filter: (item) => !dead.has(item) });
    context.statistic('constants-merged', pass.constantsMerged);
    context.statistic('bytes-saved', cleanup.bytesSaved);
    return preserved(context, pass.constantsMerged > 0);
  },
});

function mergeConstantsOnly(pass: CommonSubexpressions, graph: Graph, scope: Scope<Value[]>): void {
  pass.constants(graph, scope);
  for (const node of graph.nodes()) for (const subgraph of node.subgraphs) mergeConstantsOnly(pass, subgraph, new Scope(scope));
}
