import type { Attribute } from './attribute.js';
import type { Location } from './diagnostic.js';
import { Graph, type CreateNodeOptions } from './graph.js';
import { Model } from './model.js';
import { NO_LOCATION, opTypeOf, type Node } from './node.js';
import type { OpRegistry } from './op-schema.js';
import type { Tensor } from './tensor.js';
import { toAttributeMap, type AttributeInits } from './toolkit/attribute-init.js';
import type { Type } from './type.js';
import type { Value } from './value.js';

export interface BuildOpOptions {
  /** Number of outputs, or their names. Default one output. */
  outputs?: number | readonly string[];
  /** Output types, when known. */
  types?: readonly Type[];
  name?: string;
  loc?: Location;
}

/**
 * Builds graphs in code:
 * ```ts
 * const b = new GraphBuilder();
 * const x = b.input('x', tensorType('float32', ['N', 4]));
 * const y = b.op1('onnx.Relu', [x]);
 * b.output(y);
 * ```
 */
export class GraphBuilder {
  constructor(readonly graph: Graph = new Graph('main')) {}

  input(name: string, type?: Type): Value {
    return this.graph.addInput(name, type);
  }

  constant(tensor: Tensor, name = 'const'): Value {
    return this.graph._addConstantUnderFreeName(this.graph.uniqueName(name), tensor);
  }

  /** Adds a node and returns it. */
  node(op: string, inputs: readonly (Value | null)[], attributes: Readonly<Record<string, Attribute>> = {}, options: BuildOpOptions = {}): Node {
    const count = typeof options.outputs === 'number' ? options.outputs : (options.outputs?.length ?? options.types?.length ?? 1);
    return this.create(op, inputs, attributes, options, count);
  }

  /** Adds a node and returns its outputs. */
  op(op: string, inputs: readonly (Value | null)[], attributes: Readonly<Record<string, Attribute>> = {}, options: BuildOpOptions = {}): Value[] {
    return this.node(op, inputs, attributes, options).outputs.map((v) => v!);
  }

  /** Adds a single-output node and returns its output. */
  op1(op: string, inputs: readonly (Value | null)[], attributes: Readonly<Record<string, Attribute>> = {}, options: BuildOpOptions = {}): Value {
    const count = typeof options.outputs === 'number' ? options.outputs : (options.outputs?.length ?? 1);
    return this.create(op, inputs, attributes, options, count).output(0);
  }

  private create(op: string, inputs: readonly (Value | null)[], attributes: Readonly<Record<string, Attribute>>, options: BuildOpOptions, count: number): Node {
    const names = Array.isArray(options.outputs) ? (options.outputs as readonly string[]) : undefined;
    const types = options.types;
    const outputs = new Array<{ name?: string; type?: Type }>(count);
    for (let i = 0; i < count; i++) {
      const spec: { name?: string; type?: Type } = {};
      if (names) spec.name = names[i]!;
      if (types?.[i]) spec.type = types[i]!;
      outputs[i] = spec;
    }
    const create: CreateNodeOptions = { op, inputs, attributes, outputs };
    if (options.name !== undefined) create.name = options.name;
    if (options.loc) create.loc = options.loc;
    return this.graph.createNode(create);
  }

  output(...values: Value[]): this {
    for (const value of values) this.graph.addOutput(value);
    return this;
  }

  /** Wraps the graph in a model importing the given opsets (default `onnx` 17). */
  model(opsets: Record<string, number> = { onnx: 17 }): Model {
    const model = new Model(this.graph);
    for (const [dialect, version] of Object.entries(opsets)) model.opsetImports.set(dialect, version);
    return model;
  }
}

/** Options of `Builder.create`. */
export interface CreateOptions {
  /** Number of outputs, or their names (default one output with a fresh name). */
  outputs?: number | readonly string[];
  /** Output types, when the caller knows them (the builder infers nothing). */
  types?: readonly Type[];
  /** Node name (default: a fresh one from the op type). */
  name?: string;
  loc?: Location;
}

export interface BuilderOptions {
  /** Op schemas used to type plain attribute values (`{ axis: 1 }`); see `toAttributes`. */
  registry?: OpRegistry;
  /** Location given to created nodes that have none (default: the anchor node's location). */
  loc?: Location;
}

type InsertionPoint = { readonly kind: 'before'; readonly anchor: Node | null } | { readonly kind: 'after'; cursor: Node | null };

/**
 * An insertion point in a graph, like MLIR's `OpBuilder`: every node it creates goes there, and a
 * run of created nodes keeps the order it was created in.
 *
 * - `Builder.before(node)`: just before `node` (each new node lands between the previous one and `node`).
 * - `Builder.after(node)`: just after `node`, then after the node created last.
 * - `Builder.atStart(graph)`: at the start, then after the node created last.
 * - `Builder.atEnd(graph)`: at the end.
 *
 * Created values get unique names; nothing is inferred (types stay unknown unless given).
 */
export class Builder {
  readonly graph: Graph;
  private readonly point: InsertionPoint;
  private readonly options: BuilderOptions;

  private constructor(graph: Graph, point: InsertionPoint, options: BuilderOptions) {
    this.graph = graph;
    this.point = point;
    this.options = options;
  }

  static before(node: Node, options: BuilderOptions = {}): Builder {
    return new Builder(graphOf(node), { kind: 'before', anchor: node }, { loc: node.loc, ...options });
  }

  static after(node: Node, options: BuilderOptions = {}): Builder {
    return new Builder(graphOf(node), { kind: 'after', cursor: node }, { loc: node.loc, ...options });
  }

  static atStart(graph: Graph, options: BuilderOptions = {}): Builder {
    return new Builder(graph, { kind: 'after', cursor: null }, options);
  }

  static atEnd(graph: Graph, options: BuilderOptions = {}): Builder {
    return new Builder(graph, { kind: 'before', anchor: null }, options);
  }

  /** Adds `tensor` as a constant (initializer) of the graph under a fresh name derived from `name`. */
  constant(tensor: Tensor, name = 'const'): Value {
    return this.graph._addConstantUnderFreeName(this.graph.uniqueName(name), tensor);
  }

  /**
   * Creates a node at the insertion point. Attributes are typed `Attribute`s (`attrs.int(1)`) or
   * plain values (see `toAttributes`); `undefined` ones are left out.
   */
  create(op: string, inputs: readonly (Value | null)[], attributes: AttributeInits = {}, options: CreateOptions = {}): Node {
    const graph = this.graph;
    const count = typeof options.outputs === 'number' ? options.outputs : (options.outputs?.length ?? options.types?.length ?? 1);
    const names = Array.isArray(options.outputs) ? (options.outputs as readonly string[]) : undefined;
    // Straight to the graph (no options object, no spec object per output, the attributes typed into the node's
    // own map): every lowered or rewritten node comes through here. The names are made in the order they always
    // were (outputs, then the node), so the graph's name counter takes the same steps.
    let outputNames: (string | undefined)[] | undefined;
    if (names) {
      outputNames = new Array<string | undefined>(count);
      for (let index = 0; index < count; index++) outputNames[index] = names[index] !== undefined ? graph.uniqueName(names[index]!) : undefined;
    }
    const typed = toAttributeMap(op, attributes, this.options.registry);
    const name = graph.uniqueNodeName(options.name ?? opTypeOf(op));
    const loc = options.loc ?? this.options.loc ?? NO_LOCATION;
    const point = this.point;
    let before: Node | null = null;
    let after: Node | null = null;
    if (point.kind === 'before') before = point.anchor;
    else if (point.cursor) after = point.cursor;
    else before = graph.firstNode;
    const node = graph._createNodeFromParts(op, name, loc, inputs, count, outputNames, options.types, typed, before, after);
    if (point.kind === 'after') point.cursor = node;
    return node;
  }

  /** `create(...)` for a single-output op, returning that output. */
  op1(op: string, inputs: readonly (Value | null)[], attributes: AttributeInits = {}, options: CreateOptions = {}): Value {
    return this.create(op, inputs, attributes, options).output(0);
  }
}

function graphOf(node: Node): Graph {
  if (!node.graph) throw node.error('is not in a graph: a builder needs an anchor node that is placed');
  return node.graph;
}
