import type { Attribute } from './attribute.js';
import { ModelpassError, type Location } from './diagnostic.js';
import { NO_LOCATION, Node } from './node.js';
import { NodeWalk } from './node-walk.js';
import type { Tensor } from './tensor.js';
import { tensorType, UNKNOWN_TYPE, type Type } from './type.js';
import { Use, Value } from './value.js';

export interface CreateNodeOptions {
  /** Dialect-qualified op, e.g. `onnx.Conv`. */
  op: string;
  inputs?: readonly (Value | null)[];
  /** Output names, or types, or `{name, type}` pairs; `null` for an omitted optional output. */
  outputs?: readonly (string | Type | { name?: string; type?: Type } | null)[] | number;
  attributes?: Readonly<Record<string, Attribute>> | ReadonlyMap<string, Attribute>;
  /** Node name; a unique one is made from the op type when absent. */
  name?: string;
  loc?: Location;
  /** Insert before this node (default: append at the end). */
  before?: Node;
  /** Insert after this node. */
  after?: Node;
}

/**
 * A graph: inputs, constants (initializers), an ordered list of nodes, outputs. Subgraphs (bodies
 * of If/Loop/Scan) are graphs whose `parentNode` is the node holding them; they may use values of
 * enclosing graphs. Names are unique across a graph and the graphs nested in it.
 */
export class Graph {
  readonly isGraph = true;
  name: string;
  docString: string | undefined;
  readonly metadata = new Map<string, string>();
  /** @internal */ _parentNode: Node | null = null;
  /** @internal */ _first: Node | null = null;
  /** @internal */ _last: Node | null = null;
  /** @internal */ _nodeCount = 0;
  private readonly _inputs: Value[] = [];
  /**
   * The constants in order, possibly with removed ones still in place: `removeConstant` only takes a value out of
   * `constantSet` and counts it, and `constants` drops the removed ones (in place, order kept) when next read — so
   * removing hundreds of constants (ShuffleNet's shape arithmetic) costs no search and no shift each.
   */
  private readonly _constants: Value[] = [];
  private readonly constantSet = new Set<Value>();
  private removedConstants = 0;
  private _outputs: Value[] = [];
  private _outputUses: Use[] = [];
  private readonly values = new Map<string, Value>();
  /** Names of this graph's nodes; built by the first `uniqueNodeName` call, then kept by link/unlink. */
  private nodeNames: Set<string> | undefined;
  private nameCounter = 0;

  constructor(name = 'main') {
    this.name = name;
  }

  get parentNode(): Node | null {
    return this._parentNode;
  }

  /** The graph enclosing this one (through its parent node), if any. */
  get parentGraph(): Graph | null {
    return this._parentNode?.graph ?? null;
  }

  get inputs(): readonly Value[] {
    return this._inputs;
  }

  get constants(): readonly Value[] {
    if (this.removedConstants > 0) this.compactConstants();
    return this._constants;
  }

  /** Drops removed constants from `_constants`, keeping the order of the rest. */
  private compactConstants(): void {
    const list = this._constants;
    let kept = 0;
    for (let i = 0; i < list.length; i++) {
      const value = list[i]!;
      if (this.constantSet.has(value)) list[kept++] = value;
    }
    list.length = kept;
    this.removedConstants = 0;
  }

  get outputs(): readonly Value[] {
    return this._outputs;
  }

  get nodeCount(): number {
    return this._nodeCount;
  }

  get firstNode(): Node | null {
    return this._first;
  }

  get lastNode(): Node | null {
    return this._last;
  }

  /** Nodes in order. Safe against erasing the current node while iterating. */
  nodes(): IterableIterator<Node> {
    return new NodeWalk(this, false);
  }

  nodeList(): Node[] {
    // A plain walk of the links (no generator): passes take this snapshot many times per run.
    const list = new Array<Node>(this._nodeCount);
    let count = 0;
    for (let node = this._first; node; node = node._next) list[count++] = node;
    list.length = count;
    return list;
  }

  /**
   * Nodes of this graph (not its subgraphs) whose op is one of `ops`, in order. Like `nodes()`,
   * safe against erasing the current node and inserting before it while iterating.
   */
  nodesOf(...ops: string[]): IterableIterator<Node> {
    return new NodeWalk(this, false, new Set(ops));
  }

  /** Like `nodesOf`, across this graph and every graph nested in it (depth-first). */
  allNodesOf(...ops: string[]): IterableIterator<Node> {
    return new NodeWalk(this, true, new Set(ops));
  }

  /** Every node of this graph and, depth-first, of its subgraphs. */
  allNodes(): IterableIterator<Node> {
    return new NodeWalk(this, true);
  }

  // ---- names ------------------------------------------------------------------------------

  /** The value named `name` defined in this graph (not enclosing ones). */
  getValue(name: string): Value | undefined {
    return this.values.get(name);
  }

  /** The value named `name` visible here: this graph or an enclosing one. */
  lookup(name: string): Value | undefined {
    const own = this.values.get(name);
    if (own !== undefined || this._parentNode === null) return own;
    for (let graph: Graph | null = this.parentGraph; graph; graph = graph.parentGraph) {
      const value = graph.values.get(name);
      if (value) return value;
    }
    return undefined;
  }

  /** Values defined in this graph (inputs, constants, node outputs), in no particular order. */
  definedValues(): IterableIterator<Value> {
    return this.values.values();
  }

  private root(): Graph {
    let graph: Graph = this;
    for (let parent = graph.parentGraph; parent; parent = parent.parentGraph) graph = parent;
    return graph;
  }

  /** A value name not used in this graph or any enclosing graph, derived from `base`. */
  uniqueName(base: string): string {
    const clean = base.length > 0 ? base : 'v';
    if (!this.lookup(clean)) return clean;
    const root = this.root();
    for (;;) {
      const candidate = `${clean}_${++root.nameCounter}`;
      if (!this.lookup(candidate)) return candidate;
    }
  }

  private nodeNameSet(): Set<string> {
    if (this.nodeNames === undefined) {
      const names = new Set<string>();
      for (let node = this._first; node; node = node._next) names.add(node.name);
      this.nodeNames = names;
    }
    return this.nodeNames;
  }

  /** A node name not used in this graph, derived from `base`. */
  uniqueNodeName(base: string): string {
    const names = this.nodeNameSet();
    if (!names.has(base)) return base;
    const root = this.root();
    for (;;) {
      const candidate = `${base}_${++root.nameCounter}`;
      if (!names.has(candidate)) return candidate;
    }
  }

  private claim(name: string): void {
    if (this.lookup(name)) {
      throw new ModelpassError({
        reason: `value name '${name}' is already defined`,
        location: { path: this.path() },
        source: '@modelpass/ir',
        hint: 'values are SSA: each name is defined once in a graph and the graphs enclosing it',
      });
    }
  }

  /** @internal */
  _renameValue(value: Value, name: string): void {
    if (name === value.name) return;
    this.claim(name);
    this.values.delete(value.name);
    value._name = name;
    this.values.set(name, value);
  }

  /** @internal */
  _forgetValue(value: Value): void {
    if (this.values.get(value.name) === value) this.values.delete(value.name);
  }

  private define(name: string, type: Type): Value {
    this.claim(name);
    return this.defineClaimed(name, type);
  }

  /** Defines a value under a name known to be free (e.g. fresh from `uniqueName`). */
  private defineClaimed(name: string, type: Type): Value {
    const value = new Value(this, name, type);
    this.values.set(name, value);
    return value;
  }

  // ---- inputs, constants, outputs ---------------------------------------------------------

  addInput(name: string, type: Type = UNKNOWN_TYPE): Value {
    const value = this.define(name, type);
    value._isGraphInput = true;
    this._inputs.push(value);
    return value;
  }

  /** Removes an unused graph input. */
  removeInput(value: Value): void {
    const index = this._inputs.indexOf(value);
    if (index < 0) return;
    if (value.hasUses) throw new ModelpassError({ reason: `graph input '${value.name}' still has uses`, source: '@modelpass/ir' });
    this._inputs.splice(index, 1);
    value._isGraphInput = false;
    if (!this.constantSet.has(value)) this.values.delete(value.name);
  }

  /** Adds a constant (initializer). Its type is taken from the tensor. */
  addConstant(name: string, tensor: Tensor): Value {
    this.claim(name);
    return this._addConstantUnderFreeName(name, tensor);
  }

  /** @internal `addConstant` under a name just made by `uniqueName` (so free: not looked up again). */
  _addConstantUnderFreeName(name: string, tensor: Tensor): Value {
    const value = this.defineClaimed(name, tensorType(tensor.dtype, tensor.shape, tensor.quant));
    value.constant = tensor;
    this._constants.push(value);
    this.constantSet.add(value);
    return value;
  }

  /** Registers an existing value (e.g. a graph input with a default) as an initializer too. */
  markConstant(value: Value, tensor: Tensor): void {
    value.constant = tensor;
    if (this.constantSet.has(value)) return;
    // A value removed earlier may still hold its old place: dropped first, so it is added once, at the end.
    if (this.removedConstants > 0) this.compactConstants();
    this._constants.push(value);
    this.constantSet.add(value);
  }

  /** Removes an unused constant. */
  removeConstant(value: Value): void {
    if (!this.constantSet.has(value)) return;
    if (value.hasUses) throw new ModelpassError({ reason: `constant '${value.name}' still has uses`, source: '@modelpass/ir' });
    this.constantSet.delete(value);
    this.removedConstants++;
    value.constant = undefined;
    value.sparseConstant = undefined;
    if (!value._isGraphInput) this.values.delete(value.name);
  }

  setOutputs(values: readonly Value[]): void {
    this._outputUses.forEach((use, index) => this._outputs[index]!._removeUse(use));
    this._outputs = [];
    this._outputUses = [];
    for (const value of values) this.addOutput(value);
  }

  addOutput(value: Value): void {
    const use = new Use(this, this._outputs.length);
    value._addUse(use);
    this._outputs.push(value);
    this._outputUses.push(use);
  }

  /** @internal */
  _setOutputAt(index: number, value: Value): void {
    const old = this._outputUses[index]!;
    this._outputs[index]!._removeUse(old);
    const use = new Use(this, index);
    value._addUse(use);
    this._outputs[index] = value;
    this._outputUses[index] = use;
  }

  // ---- nodes ------------------------------------------------------------------------------

  /** Creates a node with fresh output values and places it (at the end by default). */
  createNode(options: CreateNodeOptions): Node {
    const op = options.op;
    const name = options.name !== undefined ? options.name : this.uniqueNodeName(op.slice(op.lastIndexOf('.') + 1));
    const node = new Node(op, name, options.loc ?? NO_LOCATION);
    const specs = options.outputs;
    const count = typeof specs === 'number' ? specs : specs === undefined ? 1 : specs.length;
    const outputs: (Value | null)[] = new Array(count);
    for (let index = 0; index < count; index++) {
      const spec = typeof specs === 'object' ? specs[index]! : {};
      if (spec === null) {
        outputs[index] = null;
        continue;
      }
      let outputName: string | undefined;
      let type: Type | undefined;
      if (typeof spec === 'string') outputName = spec;
      else if ('kind' in spec) type = spec as Type;
      else {
        outputName = (spec as { name?: string }).name;
        type = (spec as { type?: Type }).type;
      }
      const value =
        outputName !== undefined ? this.define(outputName, type ?? UNKNOWN_TYPE) : this.defineClaimed(this.uniqueName(`${name}_${index}`), type ?? UNKNOWN_TYPE);
      value._producer = node;
      value._producerIndex = index;
      outputs[index] = value;
    }
    node._outputs = outputs;
    if (options.inputs) node.setInputs(options.inputs);
    const attributes = options.attributes;
    if (attributes) {
      if (attributes instanceof Map) for (const [key, attribute] of attributes) node.setAttribute(key, attribute);
      else for (const key in attributes) if (Object.hasOwn(attributes, key)) node.setAttribute(key, (attributes as Record<string, Attribute>)[key]!);
    }
    if (options.before) this._linkBefore(node, options.before);
    else if (options.after) this._linkAfter(node, options.after);
    else this._linkBefore(node, null);
    return node;
  }

  /**
   * @internal `createNode` for a caller that has the parts at hand (`Builder.create`): no options object and no
   * output spec objects per node. Output `i` is named `outputNames[i]` (claimed like a `createNode` name) or a fresh
   * `<name>_<i>`, typed `outputTypes[i]` or unknown; `attributes` becomes the node's own map. Placed before
   * `before`, else after `after`, else at the end.
   */
  _createNodeFromParts(
    op: string,
    name: string,
    loc: Location,
    inputs: readonly (Value | null)[],
    outputCount: number,
    outputNames: readonly (string | undefined)[] | undefined,
    outputTypes: readonly (Type | undefined)[] | undefined,
    attributes: Map<string, Attribute> | undefined,
    before: Node | null,
    after: Node | null,
  ): Node {
    const node = new Node(op, name, loc);
    const outputs: (Value | null)[] = new Array(outputCount);
    for (let index = 0; index < outputCount; index++) {
      const outputName = outputNames?.[index];
      const type = outputTypes?.[index] || UNKNOWN_TYPE;
      const value = outputName !== undefined ? this.define(outputName, type) : this.defineClaimed(this.uniqueName(`${name}_${index}`), type);
      value._producer = node;
      value._producerIndex = index;
      outputs[index] = value;
    }
    node._outputs = outputs;
    node.setInputs(inputs);
    if (attributes) node._adoptAttributes(attributes);
    if (before) this._linkBefore(node, before);
    else if (after) this._linkAfter(node, after);
    else this._linkBefore(node, null);
    return node;
  }

  /** @internal */
  _linkBefore(node: Node, anchor: Node | null): void {
    this.attachBefore(node, anchor);
    this._nodeCount++;
    this.nodeNames?.add(node.name);
  }

  /** @internal */
  _linkAfter(node: Node, anchor: Node): void {
    this._linkBefore(node, anchor._next);
  }

  /** @internal */
  _unlink(node: Node): void {
    this.detach(node);
    this._nodeCount--;
    this.nodeNames?.delete(node.name);
  }

  /** @internal Moves `node` (in this graph) to just before `anchor`: its name and the count stay. */
  _moveBefore(node: Node, anchor: Node): void {
    this.detach(node);
    this.attachBefore(node, anchor);
  }

  /** @internal Moves `node` (in this graph) to just after `anchor` (whose successor is read once `node` is out). */
  _moveAfter(node: Node, anchor: Node): void {
    this.detach(node);
    this.attachBefore(node, anchor._next);
  }

  /** Puts `node` in the list of nodes just before `anchor` (at the end when null). */
  private attachBefore(node: Node, anchor: Node | null): void {
    if (anchor && anchor._graph !== this) throw new Error('anchor node is not in this graph');
    node._graph = this;
    node._next = anchor;
    node._prev = anchor ? anchor._prev : this._last;
    if (node._prev) node._prev._next = node;
    else this._first = node;
    if (anchor) anchor._prev = node;
    else this._last = node;
  }

  /** Takes `node` out of the list of nodes. */
  private detach(node: Node): void {
    if (node._prev) node._prev._next = node._next;
    else this._first = node._next;
    if (node._next) node._next._prev = node._prev;
    else this._last = node._prev;
    node._prev = null;
    node._next = null;
  }

  /** Moves an output value of one node to be produced by another (used by rewrites that replace a node). */
  adoptOutput(value: Value, producer: Node, index: number): void {
    if (value.producer) value.producer._outputs[value.producerIndex] = null;
    while (producer._outputs.length <= index) producer._outputs.push(null);
    producer._outputs[index] = value;
    value._producer = producer;
    value._producerIndex = index;
  }

  // ---- locations --------------------------------------------------------------------------

  /** `main/If_3.then_branch` for a subgraph, the graph's name for a top-level graph. */
  path(): string {
    const parent = this._parentNode;
    if (!parent || !parent.graph) return this.name;
    let attributeName = '?';
    for (const [key, attribute] of parent.attributes) {
      if ((attribute.kind === 'graph' && attribute.value === this) || (attribute.kind === 'graphs' && attribute.value.includes(this))) {
        attributeName = key;
      }
    }
    return `${parent.graph.path()}/${parent.name}.${attributeName}`;
  }

  /** `main/conv1`; a node name that starts with '/' (torch's `/features/0/Conv`) is not doubled: `main/features/0/Conv`. */
  pathTo(node: Node): string {
    return node.name.startsWith('/') ? `${this.path()}${node.name}` : `${this.path()}/${node.name}`;
  }
}
