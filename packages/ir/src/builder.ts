import type { Attribute } from './attribute.js';
import type { Location } from './diagnostic.js';
import { Graph, type CreateNodeOptions } from './graph.js';
import { Model } from './model.js';
import type { Node } from './node.js';
import type { Tensor } from './tensor.js';
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
    return this.graph.addConstant(this.graph.uniqueName(name), tensor);
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
