import type { SparseTensor } from './attribute.js';
import type { Graph } from './graph.js';
import type { Node } from './node.js';
import type { Tensor } from './tensor.js';
import { UNKNOWN_TYPE, type Type } from './type.js';

/**
 * One use of a value: input `index` of a node, or output `index` of a graph.
 * Use objects are owned by the IR; passes read them, mutation methods keep them true.
 */
export class Use {
  constructor(
    readonly user: Node | Graph,
    public index: number,
  ) {}

  get node(): Node | undefined {
    return isGraph(this.user) ? undefined : this.user;
  }

  get isGraphOutput(): boolean {
    return isGraph(this.user);
  }
}

function isGraph(user: Node | Graph): user is Graph {
  return (user as Graph).isGraph === true;
}

/**
 * An SSA value: defined once (a graph input, a constant, or a node output), used any number of
 * times. `uses` is maintained by every mutation method of Node and Graph.
 */
export class Value {
  /** @internal */ _name: string;
  type: Type;
  /** The graph that defines this value. */
  readonly graph: Graph;
  /** @internal */ _producer: Node | null = null;
  /** @internal */ _producerIndex = -1;
  /** @internal */ readonly _uses = new Set<Use>();
  /** Initializer data (a constant, or a graph input's default value). */
  constant: Tensor | undefined;
  /** Sparse initializer data (ONNX `sparse_initializer`). */
  sparseConstant: SparseTensor | undefined;
  docString: string | undefined;
  /** @internal Created on first use of `metadata` (most values carry none). */ _metadata: Map<string, string> | undefined = undefined;
  /** @internal Kept by `graph.addInput` / `graph.removeInput`, so `isGraphInput` is O(1). */ _isGraphInput = false;

  /** @internal Use `graph.addInput`, `graph.addConstant` or `graph.createNode`. */
  constructor(graph: Graph, name: string, type: Type = UNKNOWN_TYPE) {
    this.graph = graph;
    this._name = name;
    this.type = type;
  }

  get name(): string {
    return this._name;
  }

  /** Free-form key/value metadata carried from the source format. */
  get metadata(): Map<string, string> {
    return (this._metadata ??= new Map<string, string>());
  }

  /** Renames the value; the name must be unused in its graph and the graphs nested in it. */
  rename(name: string): void {
    this.graph._renameValue(this, name);
  }

  get producer(): Node | null {
    return this._producer;
  }

  /** Which output of its producer this value is (-1 when not a node output). */
  get producerIndex(): number {
    return this._producerIndex;
  }

  get uses(): ReadonlySet<Use> {
    return this._uses;
  }

  get useCount(): number {
    return this._uses.size;
  }

  get hasUses(): boolean {
    return this._uses.size > 0;
  }

  /** Nodes that read this value (each once, in use order). */
  get users(): Node[] {
    const nodes = new Set<Node>();
    for (const use of this._uses) if (use.node) nodes.add(use.node);
    return [...nodes];
  }

  get isGraphInput(): boolean {
    return this._isGraphInput;
  }

  get isGraphOutput(): boolean {
    for (const use of this._uses) if (use.isGraphOutput && use.user === this.graph) return true;
    return false;
  }

  /** A constant (initializer) that is not also an overridable graph input. */
  get isConstant(): boolean {
    return (this.constant !== undefined || this.sparseConstant !== undefined) && this._producer === null && !this.isGraphInput;
  }

  /** Replaces every use of this value (node inputs and graph outputs) by `other`. */
  replaceAllUsesWith(other: Value): void {
    if (other === this) return;
    for (const use of [...this._uses]) {
      if (use.user === undefined) continue;
      if ((use.user as Graph).isGraph) (use.user as Graph)._setOutputAt(use.index, other);
      else (use.user as Node).setInput(use.index, other);
    }
  }

  /** Replaces the uses for which `predicate` holds. */
  replaceUsesWith(other: Value, predicate: (use: Use) => boolean): void {
    for (const use of [...this._uses]) {
      if (!predicate(use)) continue;
      if ((use.user as Graph).isGraph) (use.user as Graph)._setOutputAt(use.index, other);
      else (use.user as Node).setInput(use.index, other);
    }
  }

  toString(): string {
    return `%${this._name}`;
  }
}
