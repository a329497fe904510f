/**
 * The reference interpreter: runs a whole model in node order with the canonical op set's
 * reference kernels. Subgraphs (If/Loop bodies) see the values of enclosing graphs; calls of
 * model-local functions are expanded inline; a missing kernel or a failing kernel is reported as a
 * ModelpassError naming the node.
 */
import { ModelpassError, Tensor, formatType, type Graph, type Model, type ModelFunction, type Node, type Value } from '@modelpass/ir';
import type { Kernel, KernelContext, RuntimeValue } from '../op-definition.js';
import { kernelFor } from '../op-set.js';
import { isRandomOp } from '../nn/random-ops.js';
import { instantiateFunction } from './function-instantiation.js';

/** The newest ONNX opset the kernels know; used when a model does not import a node's dialect. */
export const NEWEST_KNOWN_OPSET = 22;

export interface RunReferenceOptions {
  /** Extra or overriding kernels by op name (e.g. a plugin's ops). */
  readonly kernels?: ReadonlyMap<string, Kernel>;
  /**
   * Names of the values to return (graph outputs by default). Any value of the main graph may be
   * named, which makes intermediate activations observable.
   */
  readonly outputs?: readonly string[];
}

type Feeds = ReadonlyMap<string, RuntimeValue> | Readonly<Record<string, RuntimeValue>>;

/** Values bound while running one graph; lookups fall back to the enclosing frames. */
class Frame {
  private readonly values = new Map<Value, RuntimeValue>();
  constructor(readonly parent: Frame | undefined) {}

  set(value: Value, runtime: RuntimeValue): void {
    this.values.set(value, runtime);
  }

  has(value: Value): boolean {
    return this.values.has(value);
  }

  get(value: Value): RuntimeValue | undefined {
    for (let frame: Frame | undefined = this; frame; frame = frame.parent) {
      if (frame.values.has(value)) return frame.values.get(value);
    }
    return undefined;
  }
}

function sourceOf(model: Model): { file?: string } {
  return model.sourcePath ? { file: model.sourcePath } : {};
}

class ReferenceInterpreter {
  private readonly functionGraphs = new WeakMap<Node, Graph>();

  constructor(
    private readonly model: Model,
    private readonly options: RunReferenceOptions,
  ) {}

  private kernel(op: string): Kernel | undefined {
    return this.options.kernels?.get(op) ?? kernelFor(op);
  }

  private functionFor(node: Node): ModelFunction | undefined {
    return this.model.findFunction(node.dialect, node.opType, node.overload);
  }

  /** Binds graph inputs (given values, else their defaults) and constants, then runs the nodes. */
  runGraph(graph: Graph, parent: Frame | undefined, inputs: readonly (RuntimeValue | undefined)[], opsets: ReadonlyMap<string, number>): Frame {
    const frame = new Frame(parent);
    graph.inputs.forEach((input, i) => {
      const given = inputs[i];
      if (given !== undefined) frame.set(input, given);
      else if (input.constant) frame.set(input, input.constant);
      else frame.set(input, null);
    });
    for (const constant of graph.constants) if (!frame.has(constant) && constant.constant) frame.set(constant, constant.constant);
    for (const node of graph.nodes()) this.runNode(node, frame, opsets);
    return frame;
  }

  private read(node: Node, frame: Frame, value: Value | null, index: number): RuntimeValue {
    if (value === null) return null;
    const runtime = frame.get(value);
    if (runtime === undefined) {
      throw new ModelpassError({
        reason: `input #${index} '${value.name}' has no value`,
        location: { ...node.location, ...sourceOf(this.model) },
        source: '@modelpass/ops',
        hint: value.isGraphInput ? 'feed this graph input' : 'the value is produced later or not at all (is the graph in topological order?)',
      });
    }
    return runtime;
  }

  private runNode(node: Node, frame: Frame, opsets: ReadonlyMap<string, number>): void {
    const inputs = node.inputs.map((value, index) => this.read(node, frame, value, index));
    let outputs: RuntimeValue[];
    const fn = this.kernel(node.op) ? undefined : this.functionFor(node);
    if (fn) {
      outputs = this.runFunction(node, fn, inputs);
    } else {
      const kernel = this.kernel(node.op);
      if (!kernel && isRandomOp(node.op)) {
        throw new ModelpassError({
          reason: `op '${node.op}' draws random numbers, which the reference interpreter does not run: its outputs are not reproducible`,
          location: { ...node.location, ...sourceOf(this.model) },
          source: '@modelpass/ops',
          hint: 'ONNX leaves the generator unspecified, so no seed pins the values; feed the random tensor as a graph input, or supply a kernel with runReference(model, feeds, { kernels })',
          code: 'ops/random-op',
        });
      }
      if (!kernel) {
        throw new ModelpassError({
          reason: `op '${node.op}' has no reference kernel`,
          location: { ...node.location, ...sourceOf(this.model) },
          source: '@modelpass/ops',
          hint: 'supply one with runReference(model, feeds, { kernels: new Map([[op, kernel]]) }) or define it as a model-local function',
        });
      }
      const context: KernelContext = {
        node,
        opset: opsets.get(node.dialect) ?? NEWEST_KNOWN_OPSET,
        runSubgraph: (graph, subgraphInputs) => this.runSubgraph(graph, frame, subgraphInputs, opsets),
      };
      try {
        outputs = kernel(inputs, context);
      } catch (error) {
        throw this.wrap(node, error);
      }
    }
    node.outputs.forEach((value, i) => {
      if (!value) return;
      const result = outputs[i];
      if (result === undefined) {
        throw new ModelpassError({
          reason: `kernel produced ${outputs.length} output(s) but output #${i} '${value.name}' is used`,
          location: { ...node.location, ...sourceOf(this.model) },
          source: '@modelpass/ops',
        });
      }
      frame.set(value, result);
    });
  }

  private runSubgraph(graph: Graph, frame: Frame, inputs: readonly RuntimeValue[], opsets: ReadonlyMap<string, number>): RuntimeValue[] {
    if (inputs.length > graph.inputs.length) {
      throw new ModelpassError({ reason: `subgraph '${graph.path()}' takes ${graph.inputs.length} inputs, got ${inputs.length}`, source: '@modelpass/ops' });
    }
    const inner = this.runGraph(graph, frame, inputs, opsets);
    return graph.outputs.map((value) => {
      const result = inner.get(value);
      if (result === undefined) throw new ModelpassError({ reason: `subgraph output '${value.name}' of '${graph.path()}' has no value`, source: '@modelpass/ops' });
      return result;
    });
  }

  private runFunction(node: Node, fn: ModelFunction, inputs: readonly RuntimeValue[]): RuntimeValue[] {
    let body = this.functionGraphs.get(node);
    if (!body) {
      body = instantiateFunction(fn, node);
      this.functionGraphs.set(node, body);
    }
    const opsets = new Map(this.model.opsetImports);
    for (const [dialect, version] of fn.opsetImports) opsets.set(dialect, version);
    const padded = body.inputs.map((_, i) => inputs[i] ?? null);
    try {
      const frame = this.runGraph(body, undefined, padded, opsets);
      return body.outputs.map((value) => frame.get(value) ?? null);
    } catch (error) {
      throw new ModelpassError({
        reason: `call of model-local function '${fn.dialect}.${fn.name}' failed: ${error instanceof Error ? error.message : String(error)}`,
        location: { ...node.location, ...sourceOf(this.model) },
        source: '@modelpass/ops',
        cause: error,
      });
    }
  }

  private wrap(node: Node, error: unknown): ModelpassError {
    if (ModelpassError.is(error) && (error as ModelpassError).location?.node === node.name && (error as ModelpassError).location?.op === node.op) {
      return error as ModelpassError;
    }
    const message = error instanceof Error ? error.message : String(error);
    return new ModelpassError({
      reason: `reference kernel failed: ${message}`,
      location: { ...node.location, ...sourceOf(this.model) },
      source: '@modelpass/ops',
      cause: error,
    });
  }
}

function feedEntries(feeds: Feeds): Map<string, RuntimeValue> {
  return feeds instanceof Map ? new Map(feeds) : new Map(Object.entries(feeds as Record<string, RuntimeValue>));
}

function checkFeed(model: Model, input: Value, fed: RuntimeValue): void {
  const type = input.type;
  if (type.kind !== 'tensor' || !(fed instanceof Tensor)) return;
  const shapeOk =
    type.shape === null ||
    (type.shape.length === fed.rank && type.shape.every((dim, i) => typeof dim !== 'number' || dim === fed.shape[i]));
  if (type.dtype !== fed.dtype || !shapeOk) {
    throw new ModelpassError({
      reason: `feed for graph input '${input.name}' does not match its type`,
      location: { ...sourceOf(model), path: input.graph.path() },
      expected: formatType(type),
      actual: `${fed.dtype}[${fed.shape.join(',')}]`,
      source: '@modelpass/ops',
    });
  }
}

/**
 * Runs `model` on `feeds` (graph input name → value) with the reference kernels and returns the
 * graph outputs by name (or the values named in `options.outputs`). Graph inputs with an
 * initializer may be omitted; their default is used.
 */
export function runReference(model: Model, feeds: Feeds, options: RunReferenceOptions = {}): Map<string, RuntimeValue> {
  refuseQuantizedTypes(model);
  const given = feedEntries(feeds);
  const graph = model.graph;
  const inputs = graph.inputs.map((input) => {
    const fed = given.get(input.name);
    given.delete(input.name);
    if (fed === undefined) {
      if (input.constant) return undefined;
      throw new ModelpassError({
        reason: `graph input '${input.name}' is not fed`,
        location: { ...sourceOf(model), path: graph.path() },
        expected: formatType(input.type),
        source: '@modelpass/ops',
      });
    }
    checkFeed(model, input, fed);
    return fed;
  });
  if (given.size > 0) {
    throw new ModelpassError({
      reason: `feeds name values that are not graph inputs: ${[...given.keys()].map((n) => `'${n}'`).join(', ')}`,
      expected: `inputs among ${graph.inputs.map((v) => `'${v.name}'`).join(', ') || '(none)'}`,
      location: sourceOf(model),
      source: '@modelpass/ops',
    });
  }
  const interpreter = new ReferenceInterpreter(model, options);
  const frame = interpreter.runGraph(graph, undefined, inputs, model.opsetImports);
  const wanted = options.outputs ? options.outputs.map((name) => graph.getValue(name) ?? name) : graph.outputs;
  const results = new Map<string, RuntimeValue>();
  for (const value of wanted) {
    if (typeof value === 'string') {
      throw new ModelpassError({ reason: `no value named '${value}' in the main graph`, location: sourceOf(model), source: '@modelpass/ops' });
    }
    const result = frame.get(value);
    if (result === undefined) throw new ModelpassError({ reason: `value '${value.name}' was not computed`, location: sourceOf(model), source: '@modelpass/ops' });
    results.set(value.name, result);
  }
  return results;
}

/**
 * The kernels compute on a tensor's stored elements, but a `quant<>` value stands for the reals
 * `scale * (q - zero_point)`: running such IR would be silently wrong, so it is refused until
 * `materialize-qdq` has lowered the types to QuantizeLinear/DequantizeLinear.
 */
function refuseQuantizedTypes(model: Model): void {
  const graphs = [model.graph];
  for (let index = 0; index < graphs.length; index++) {
    const graph = graphs[index]!;
    const values = [...graph.inputs, ...graph.constants];
    for (const node of graph.nodes()) {
      for (const value of node.outputs) if (value) values.push(value);
      graphs.push(...node.subgraphs);
    }
    for (const value of values) {
      if (value.type.kind !== 'tensor' || !value.type.quant) continue;
      const producer = value.producer;
      throw new ModelpassError({
        reason: `value '${value.name}' has a quantized type (${formatType(value.type)}); the reference interpreter computes on stored integers, not on the reals a quant<> type stands for`,
        location: { ...sourceOf(model), path: graph.path(), ...(producer ? { node: producer.name, op: producer.op } : {}) },
        hint: 'lower the quantized types first: run the materialize-qdq pass (it writes QuantizeLinear/DequantizeLinear)',
        source: '@modelpass/ops',
      });
    }
  }
}
