import type { SparseTensor } from './attribute.js';
import type { Graph } from './graph.js';
import type { Node } from './node.js';
import type { Tensor } from './tensor.js';
import { ModelpassError } from './diagnostic.js';
import { tensorType, UNKNOWN_TYPE, type Type } from './type.js';

/** Up to this many uses, `users` dedupes by scanning its short list (no Set). */
const SMALL_USE_COUNT = 8;

/**
 * One use of a value: input `index` of a node, or output `index` of a graph.
 * Use objects are owned by the IR; passes read them, mutation methods keep them true.
 */
export class Use {
  /** @internal The value whose use list holds this use; null when it holds none (never added, or removed). */ _value: Value | null = null;
  /** @internal Neighbours in that list. A removed use keeps `_next`, so an iteration paused on it can go on. */ _prev: Use | null = null;
  /** @internal */ _next: Use | null = null;

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
  /** @internal Uses in the order they were added, as a doubly linked list through the Use objects (no per-value Set). */ _firstUse: Use | null = null;
  /** @internal */ _lastUse: Use | null = null;
  /** @internal */ _useCount = 0;
  /** @internal The `uses` view, made on first request. */ _useView: LiveUseSet | undefined = undefined;
  /** Initializer data (a constant, or a graph input's default value). */
  constant: Tensor | undefined;
  /** Sparse initializer data (ONNX `sparse_initializer`). */
  sparseConstant: SparseTensor | undefined;
  docString: string | undefined;
  /** @internal Created on first use of `metadata` (most values carry none). */ _metadata: Map<string, string> | undefined = undefined;
  /** @internal Kept by `graph.addInput` / `graph.removeInput`, so `isGraphInput` is O(1). */ _isGraphInput = false;
  /** @internal How many outputs of `graph` (its own graph, not a nested one) this value is: kept by `_addUse` / `_removeUse`, so `isGraphOutput` is O(1). */ _ownGraphOutputCount = 0;

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

  /** One metadata entry, without creating the map when there is none (for walks that ask every value). */
  metadataEntry(key: string): string | undefined {
    return this._metadata?.get(key);
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

  /** The uses of this value in the order they were made: a live, read-only set (see `UseSet`). */
  get uses(): UseSet {
    return (this._useView ??= new LiveUseSet(this));
  }

  get useCount(): number {
    return this._useCount;
  }

  get hasUses(): boolean {
    return this._useCount > 0;
  }

  /** Nodes that read this value (each once, in use order). */
  get users(): Node[] {
    const nodes: Node[] = [];
    if (this._useCount > SMALL_USE_COUNT) {
      const seen = new Set<Node>();
      for (let use = this._firstUse; use; use = use._next) if (use.node && !seen.has(use.node)) seen.add(use.node), nodes.push(use.node);
      return nodes;
    }
    // Few uses (nearly every value): a scan of the short list instead of a Set per call.
    for (let use = this._firstUse; use; use = use._next) if (use.node && !nodes.includes(use.node)) nodes.push(use.node);
    return nodes;
  }

  /** @internal Appends a new use (one not in any value's list). */
  _addUse(use: Use): void {
    use._value = this;
    use._prev = this._lastUse;
    use._next = null;
    if (this._lastUse) this._lastUse._next = use;
    else this._firstUse = use;
    this._lastUse = use;
    this._useCount++;
    if (use.user === this.graph) this._ownGraphOutputCount++;
  }

  /** @internal Removes a use of this value; does nothing for a use it does not hold. */
  _removeUse(use: Use): void {
    if (use._value !== this) return;
    if (use._prev) use._prev._next = use._next;
    else this._firstUse = use._next;
    if (use._next) use._next._prev = use._prev;
    else this._lastUse = use._prev;
    use._value = null;
    use._prev = null;
    this._useCount--;
    if (use.user === this.graph) this._ownGraphOutputCount--;
  }

  /** @internal A snapshot of the uses, for loops that change them. */
  _useArray(): Use[] {
    const uses = new Array<Use>(this._useCount);
    let i = 0;
    for (let use = this._firstUse; use; use = use._next) uses[i++] = use;
    return uses;
  }

  get isGraphInput(): boolean {
    return this._isGraphInput;
  }

  get isGraphOutput(): boolean {
    return this._ownGraphOutputCount > 0;
  }

  /** A constant (initializer) that is not also an overridable graph input. */
  get isConstant(): boolean {
    return (this.constant !== undefined || this.sparseConstant !== undefined) && this._producer === null && !this.isGraphInput;
  }

  /**
   * Replaces every use of this value (node inputs and graph outputs) by `other`.
   *
   * Graph outputs keep their public names (`keepOutputNames`, default true): when this value is an
   * output of its graph, `other` takes over its name if it is a node output of the same graph that
   * is neither a graph input nor a graph output (this value gets a fresh `<name>__replaced` name);
   * otherwise an `onnx.Identity` named after the output is appended to produce it from `other`.
   * Pass `{ keepOutputNames: false }` to let the output take `other`'s name instead, and
   * `{ except: node }` to leave that node's uses alone (MLIR's `replaceAllUsesExcept`: a node
   * inserted after this value that reads it and replaces it).
   */
  replaceAllUsesWith(other: Value, options: ReplaceUsesOptions = {}): void {
    if (other === this) return;
    const except = options.except;
    const keep = (options.keepOutputNames ?? true) && this.isGraphOutput;
    if (keep && !canTakeOverName(other, this)) {
      this.replaceUsesWith(other, (use) => use.user !== except && !(use.isGraphOutput && use.user === this.graph));
      const name = this._name;
      this.rename(this.graph.uniqueName(`${name}__replaced`));
      const identity = this.graph.createNode({ op: 'onnx.Identity', inputs: [other], outputs: [{ name, type: other.type.kind === 'unknown' ? this.type : other.type }] });
      this.replaceUsesWith(identity.output(0), () => true);
      return;
    }
    // A walk of the use list, the successor read before each use is replaced (no snapshot array): every replaced
    // node's outputs come through here. Replacing a use takes only that use out of this list and adds none to it.
    for (let use = this._firstUse; use !== null; ) {
      const next: Use | null = use._next;
      if (use.user !== except) {
        if ((use.user as Graph).isGraph) (use.user as Graph)._setOutputAt(use.index, other);
        else (use.user as Node).setInput(use.index, other);
      }
      use = next;
    }
    if (keep) {
      const name = this._name;
      this.rename(this.graph.uniqueName(`${name}__replaced`));
      other.rename(name);
      if (other.type.kind === 'unknown') other.type = this.type;
    }
  }

  /**
   * Replaces the initializer data and keeps the declared type in step (dtype, shape and quant of
   * `tensor`). Only for constants and graph inputs with a default; a node output cannot hold data.
   */
  setConstant(tensor: Tensor): void {
    if (this._producer !== null) {
      throw this._producer.error(`output '${this._name}' is computed by the node and cannot hold constant data`, {
        hint: 'add a constant with Builder.constant(tensor) or graph.addConstant(name, tensor) and replace the uses instead',
      });
    }
    if (this.constant === undefined && !this._isGraphInput) {
      throw new ModelpassError({
        reason: `value '${this._name}' is not a constant or a graph input`,
        location: { path: this.graph.path() },
        source: '@modelpass/ir',
      });
    }
    if (this.constant === undefined) this.graph.markConstant(this, tensor);
    this.constant = tensor;
    this.sparseConstant = undefined;
    this.type = tensorType(tensor.dtype, tensor.shape, tensor.quant);
  }

  /** Replaces the uses for which `predicate` holds. */
  replaceUsesWith(other: Value, predicate: (use: Use) => boolean): void {
    for (const use of this._useArray()) {
      if (!predicate(use)) continue;
      if ((use.user as Graph).isGraph) (use.user as Graph)._setOutputAt(use.index, other);
      else (use.user as Node).setInput(use.index, other);
    }
  }

  toString(): string {
    return `%${this._name}`;
  }
}

export interface ReplaceUsesOptions {
  /** Keep the public names of graph outputs (default true); see `Value.replaceAllUsesWith`. */
  readonly keepOutputNames?: boolean;
  /** A node whose uses are left alone. */
  readonly except?: Node;
}

/** Whether `to` can be renamed to `from`'s name when it replaces `from` as a graph output. */
function canTakeOverName(to: Value, from: Value): boolean {
  return to.graph === from.graph && to.producer !== null && !to.isGraphOutput && !to.isGraphInput;
}

/**
 * The live, read-only set view of a value's uses (`value.uses`): insertion order, O(1) `has` and
 * `size`. Like a Set, an iteration skips uses removed before it reaches them and sees uses added
 * meanwhile (except uses added after removing the very use it is paused on, when that was the last).
 *
 * It offers the read methods of ES2015's `ReadonlySet` (not ES2025's `union`, `intersection`, …,
 * which a TypeScript `lib` of ESNext adds to `ReadonlySet` but Node 20 lacks): for those, copy the
 * uses into a real set first, `new Set(value.uses)`.
 */
export interface UseSet extends Iterable<Use> {
  readonly size: number;
  has(use: Use): boolean;
  forEach(callback: (use: Use, same: Use, set: UseSet) => void, thisArg?: unknown): void;
  values(): IterableIterator<Use>;
  keys(): IterableIterator<Use>;
  entries(): IterableIterator<[Use, Use]>;
  [Symbol.iterator](): IterableIterator<Use>;
}

/** The `UseSet` of one value: walks the value's linked list of uses. */
class LiveUseSet implements UseSet {
  constructor(private readonly value: Value) {}

  get size(): number {
    return this.value._useCount;
  }

  has(use: Use): boolean {
    return use instanceof Use && use._value === this.value;
  }

  forEach(callback: (use: Use, same: Use, set: UseSet) => void, thisArg?: unknown): void {
    for (const use of this) callback.call(thisArg, use, use, this);
  }

  *values(): SetIterator<Use> {
    const value = this.value;
    let use = value._firstUse;
    while (use) {
      if (use._value === value) yield use;
      // A use removed while the loop was paused on it still knows its successor at removal time.
      let next = use._next;
      while (next && next._value !== value) next = next._next;
      use = next;
    }
  }

  keys(): SetIterator<Use> {
    return this.values();
  }

  *entries(): SetIterator<[Use, Use]> {
    for (const use of this) yield [use, use];
  }

  [Symbol.iterator](): SetIterator<Use> {
    return this.values();
  }

  get [Symbol.toStringTag](): string {
    return 'UseSet';
  }
}
