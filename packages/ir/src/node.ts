import {
  graphsOf,
  type Attribute,
  type AttributeKind,
  type AttributeValueMap,
} from './attribute.js';
import { ModelpassError, type Location } from './diagnostic.js';
import type { Graph } from './graph.js';
import { Use, type Value } from './value.js';

/** Splits `onnx.Conv` into dialect `onnx` and op type `Conv` (dialects may contain dots). */
export function splitOpName(op: string): { dialect: string; opType: string } {
  const split = splitOpCached(op);
  return { dialect: split.dialect, opType: split.opType };
}

interface OpParts {
  /** The first string seen for this op: nodes share it instead of each keeping its own copy. */
  readonly op: string;
  readonly dialect: string;
  readonly opType: string;
}

/** Op names are few and repeat across nodes: split each once (bounded, so odd inputs cannot grow it without limit). */
const OP_PARTS = new Map<string, OpParts>();
const OP_PARTS_LIMIT = 4096;

function splitOpCached(op: string): OpParts {
  const cached = OP_PARTS.get(op);
  if (cached) return cached;
  const dot = op.lastIndexOf('.');
  if (dot <= 0 || dot === op.length - 1) {
    throw new ModelpassError({
      reason: `op name '${op}' has no dialect`,
      expected: "'<dialect>.<OpType>', e.g. 'onnx.Conv'",
      actual: `'${op}'`,
      source: '@modelpass/ir',
    });
  }
  const parts: OpParts = { op, dialect: op.slice(0, dot), opType: op.slice(dot + 1) };
  if (OP_PARTS.size >= OP_PARTS_LIMIT) OP_PARTS.clear();
  OP_PARTS.set(op, parts);
  return parts;
}

/** The op type of `op` (`Conv` of `onnx.Conv`): the split kept for nodes when there is one, without a fresh slice per call. */
export function opTypeOf(op: string): string {
  const cached = OP_PARTS.get(op);
  return cached !== undefined ? cached.opType : op.slice(op.lastIndexOf('.') + 1);
}

/**
 * An operation: `op` (dialect-qualified, e.g. `onnx.Conv`), inputs and outputs (values; `null` for an
 * omitted optional one), typed attributes, subgraphs held in graph attributes, a source location.
 */
export class Node {
  readonly op: string;
  readonly dialect: string;
  readonly opType: string;
  name: string;
  /** Where the node came from (file, line, column of its source). */
  loc: Location;
  docString: string | undefined;
  /** ONNX `overload` of a model-local function call, when any. */
  overload: string | undefined;
  /** @internal Created on first use of `metadata` (most nodes carry none). */ _metadata: Map<string, string> | undefined = undefined;

  /** @internal */ _graph: Graph | null = null;
  /** @internal */ _prev: Node | null = null;
  /** @internal */ _next: Node | null = null;
  /** @internal */ _inputs: (Value | null)[] = [];
  /** @internal */ _inputUses: (Use | null)[] = [];
  /** @internal */ _outputs: (Value | null)[] = [];
  /** @internal Created by the first `setAttribute` (many nodes have none). */ _attributes: Map<string, Attribute> | undefined = undefined;
  /** @internal How many attributes hold graphs, so `subgraphs` costs nothing on plain nodes. */ _graphAttributeCount = 0;

  /** @internal Use `graph.createNode`. */
  constructor(op: string, name: string, loc: Location = NO_LOCATION) {
    const parts = splitOpCached(op);
    this.op = parts.op;
    this.dialect = parts.dialect;
    this.opType = parts.opType;
    this.name = name;
    this.loc = loc;
  }

  /** Free-form key/value metadata carried from the source format. */
  get metadata(): Map<string, string> {
    return (this._metadata ??= new Map<string, string>());
  }

  /** One metadata entry, without creating the map when there is none (for walks that ask every node). */
  metadataEntry(key: string): string | undefined {
    return this._metadata?.get(key);
  }

  get graph(): Graph | null {
    return this._graph;
  }

  get prev(): Node | null {
    return this._prev;
  }

  get next(): Node | null {
    return this._next;
  }

  get inputs(): readonly (Value | null)[] {
    return this._inputs;
  }

  get outputs(): readonly (Value | null)[] {
    return this._outputs;
  }

  /** Input `index`; throws a located error when it is absent. */
  input(index: number): Value {
    const value = this._inputs[index];
    if (!value) throw this.error(`has no input #${index}`, { expected: `input #${index}` });
    return value;
  }

  /** Output `index`; throws a located error when it is absent. */
  output(index = 0): Value {
    const value = this._outputs[index];
    if (!value) throw this.error(`has no output #${index}`, { expected: `output #${index}` });
    return value;
  }

  setInput(index: number, value: Value | null): void {
    const old = this._inputUses[index];
    if (old) this._inputs[index]!._removeUse(old);
    while (this._inputs.length <= index) {
      this._inputs.push(null);
      this._inputUses.push(null);
    }
    this._inputs[index] = value;
    if (value) {
      const use = new Use(this, index);
      value._addUse(use);
      this._inputUses[index] = use;
    } else {
      this._inputUses[index] = null;
    }
  }

  setInputs(values: readonly (Value | null)[]): void {
    this.dropInputUses();
    // Arrays of exactly the needed size: growing them by push would reserve room for 17 entries.
    const count = values.length;
    const inputs = new Array<Value | null>(count);
    const uses = new Array<Use | null>(count);
    for (let index = 0; index < count; index++) {
      const value = values[index]!;
      inputs[index] = value;
      if (value) {
        const use = new Use(this, index);
        value._addUse(use);
        uses[index] = use;
      } else {
        uses[index] = null;
      }
    }
    this._inputs = inputs;
    this._inputUses = uses;
  }

  addInput(value: Value | null): void {
    this.setInput(this._inputs.length, value);
  }

  /** Removes input `index`, shifting later inputs down. */
  removeInput(index: number): void {
    const values = [...this._inputs];
    values.splice(index, 1);
    this.setInputs(values);
  }

  /** Drops trailing omitted inputs. */
  trimInputs(): void {
    let end = this._inputs.length;
    while (end > 0 && this._inputs[end - 1] === null) end--;
    if (end < this._inputs.length) this.setInputs(this._inputs.slice(0, end));
  }

  // ---- attributes -------------------------------------------------------------------------

  get attributes(): ReadonlyMap<string, Attribute> {
    return this._attributes ?? NO_ATTRIBUTES;
  }

  hasAttribute(name: string): boolean {
    return this._attributes !== undefined && this._attributes.has(name);
  }

  getAttribute(name: string): Attribute | undefined {
    return this._attributes?.get(name);
  }

  setAttribute(name: string, attribute: Attribute): void {
    const attributes = (this._attributes ??= new Map<string, Attribute>());
    const old = attributes.get(name);
    if (old && holdsGraphs(old)) {
      for (const graph of graphsOf(old)) graph._parentNode = null;
      this._graphAttributeCount--;
    }
    if (holdsGraphs(attribute)) {
      for (const graph of graphsOf(attribute)) graph._parentNode = this;
      this._graphAttributeCount++;
    }
    attributes.set(name, attribute);
  }

  /** @internal Takes `attributes` (a fresh map nobody else holds) as this attribute-less node's attributes. */
  _adoptAttributes(attributes: Map<string, Attribute>): void {
    this._attributes = attributes;
    for (const attribute of attributes.values()) {
      if (!holdsGraphs(attribute)) continue;
      for (const graph of graphsOf(attribute)) graph._parentNode = this;
      this._graphAttributeCount++;
    }
  }

  removeAttribute(name: string): void {
    const old = this._attributes?.get(name);
    if (!old) return;
    if (holdsGraphs(old)) {
      for (const graph of graphsOf(old)) graph._parentNode = null;
      this._graphAttributeCount--;
    }
    this._attributes!.delete(name);
  }

  /**
   * A typed attribute value: `fallback` when absent; a located error when present with another
   * kind, or absent without a fallback.
   */
  attr<K extends AttributeKind>(name: string, kind: K, fallback?: AttributeValueMap[K]): AttributeValueMap[K] {
    const attribute = this._attributes?.get(name);
    if (!attribute) {
      if (fallback !== undefined) return fallback;
      throw this.error(`is missing required attribute '${name}'`, { expected: `a ${kind} attribute '${name}'` });
    }
    if (attribute.kind !== kind) {
      throw this.error(`has attribute '${name}' of the wrong kind`, { expected: kind, actual: attribute.kind });
    }
    return attribute.value as AttributeValueMap[K];
  }

  /** The attribute value when present with the given kind, else undefined. */
  optionalAttr<K extends AttributeKind>(name: string, kind: K): AttributeValueMap[K] | undefined {
    const attribute = this._attributes?.get(name);
    if (!attribute) return undefined;
    return this.attr(name, kind);
  }

  /**
   * Subgraphs held by this node's attributes, in attribute order (a fresh array; on a node without
   * any, one shared empty frozen array: graph walks ask every node).
   */
  get subgraphs(): Graph[] {
    if (this._graphAttributeCount === 0 || !this._attributes) return NO_SUBGRAPHS as Graph[];
    const graphs: Graph[] = [];
    for (const attribute of this._attributes.values()) if (holdsGraphs(attribute)) graphs.push(...graphsOf(attribute));
    return graphs;
  }

  // ---- placement --------------------------------------------------------------------------

  /** Unlinks the node from its graph and drops its input uses. Its outputs must be unused. */
  erase(): void {
    // Indexed loops (no iterator per loop): every lowered or rewritten node ends here.
    const outputs = this._outputs;
    for (let i = 0; i < outputs.length; i++) {
      const output = outputs[i];
      if (output && output.hasUses) throw this.stillUsedError(output);
    }
    this.dropInputUses();
    const graph = this._graph;
    if (graph) {
      graph._unlink(this);
      for (let i = 0; i < outputs.length; i++) {
        const output = outputs[i];
        if (output) graph._forgetValue(output);
      }
    }
    this._graph = null;
  }

  private stillUsedError(output: Value): ModelpassError {
    return this.error(`cannot be erased: output '${output.name}' still has ${output.useCount} use(s)`);
  }

  /** Moves this node (already in a graph) to just before `anchor`. */
  moveBefore(anchor: Node): void {
    if (!this._graph || anchor.graph !== this._graph) throw this.error('can only move within its own graph');
    this._graph._moveBefore(this, anchor);
  }

  moveAfter(anchor: Node): void {
    if (!this._graph || anchor.graph !== this._graph) throw this.error('can only move within its own graph');
    this._graph._moveAfter(this, anchor);
  }

  /** The location to report for this node: its source location plus its name and op. */
  get location(): Location {
    return { ...this.loc, node: this.name, op: this.op, path: this._graph?.pathTo(this) };
  }

  /** A ModelpassError located at this node: `node 'conv1' (onnx.Conv): <reason>`. */
  error(reason: string, extra: { expected?: string; actual?: string; hint?: string; cause?: unknown } = {}): ModelpassError {
    return new ModelpassError({ reason, location: this.location, source: '@modelpass/ir', ...extra });
  }

  private dropInputUses(): void {
    const inputs = this._inputs;
    const uses = this._inputUses;
    for (let index = 0; index < inputs.length; index++) {
      const value = inputs[index];
      const use = uses[index];
      if (value && use) value._removeUse(use);
    }
  }

  toString(): string {
    return `${this.op} '${this.name}'`;
  }
}

const NO_SUBGRAPHS: readonly Graph[] = Object.freeze([]);

/** The location of a node created without one (shared: locations are read-only). */
export const NO_LOCATION: Location = Object.freeze({});

function holdsGraphs(attribute: Attribute): boolean {
  return attribute.kind === 'graph' || attribute.kind === 'graphs';
}

/** What `attributes` reads as on a node that has none: an empty map that refuses writes. */
class EmptyAttributeMap extends Map<string, Attribute> {
  override set(): this {
    throw new TypeError('node.attributes is read-only: use node.setAttribute');
  }
}
const NO_ATTRIBUTES: ReadonlyMap<string, Attribute> = new EmptyAttributeMap();
