import { Graph, tensorType, type Location, type Node, type Tensor, type TensorStorage, type Value } from '@modelpass/ir';
import { importDenotation, importGraphAnnotations, importNodeAnnotations } from '../annotations.js';
import { DEFAULT_DIALECT, dialectOfDomain, META_INT64_PREFIX, META_UNNAMED } from '../dialect.js';
import { onnxError } from '../errors.js';
import type { OnnxTypes } from '../proto.js';
import { importType } from '../type-convert.js';
import { importAttribute } from './attribute-import.js';
import { importSparseTensor, importTensor, locate, type LocationSource } from './tensor-import.js';
import type { SourceFiles } from './source-file.js';
import { rejectCycles } from './cycle-check.js';
import { markDeclaredValueInfo } from '../export/value-info-policy.js';
import { DEFAULT_READ_LIMITS, limitExceeded, type ResolvedReadLimits } from './read-limits.js';


export interface GraphImportOptions {
  readonly file?: string;
  readonly baseDir?: string;
  /** Initializer raw_data kept in the file by the lazy reader (see TensorImportContext). */
  readonly lazyRawData?: (proto: OnnxTypes.TensorProto) => TensorStorage | undefined;
  /** The files this import reads tensor data from. */
  readonly sources?: SourceFiles;
  /** Resource limits (defaults: `DEFAULT_READ_LIMITS`). */
  readonly limits?: ResolvedReadLimits;
}

/**
 * Names visible in one ONNX graph: its own values and, through `parent`, the enclosing graphs'
 * (ONNX subgraphs may read outer values by name). A name the IR already uses in an enclosing
 * scope is renamed in the IR (ONNX names inside a subgraph are local to it).
 */
class Scope {
  private readonly names = new Map<string, Value>();
  constructor(readonly parent: Scope | null) {}
  resolve(name: string): Value | undefined {
    for (let scope: Scope | null = this; scope; scope = scope.parent) {
      const value = scope.names.get(name);
      if (value) return value;
    }
    return undefined;
  }
  local(name: string): Value | undefined {
    return this.names.get(name);
  }
  bind(name: string, value: Value): void {
    this.names.set(name, value);
  }
}

/**
 * Names for the unnamed nodes of one ONNX graph (the export leaves them unnamed again). They depend
 * only on that graph's own node list — `Relu`, `Relu_1`, … skipping every name a node of the graph
 * carries — never on counters shared with other graphs, so importing the written model again gives
 * the very same names.
 */
class NodeNamer {
  private readonly taken: Set<string>;
  private readonly nextSuffix = new Map<string, number>();
  constructor(nodes: readonly OnnxTypes.NodeProto.$Properties[]) {
    this.taken = new Set(nodes.map((node) => node.name ?? '').filter((name) => name !== ''));
  }
  generated(opType: string): string {
    let name = opType;
    if (this.taken.has(name)) {
      let suffix = this.nextSuffix.get(opType) ?? 1;
      while (this.taken.has(`${opType}_${suffix}`)) suffix++;
      name = `${opType}_${suffix}`;
      this.nextSuffix.set(opType, suffix + 1);
    }
    this.taken.add(name);
    return name;
  }
}

export class GraphImporter {
  private readonly limits: ResolvedReadLimits;
  /** Nodes created so far, over all graphs and functions (for `maxNodeCount`). */
  private nodeCount = 0;

  constructor(private readonly options: GraphImportOptions) {
    this.limits = options.limits ?? DEFAULT_READ_LIMITS;
  }

  private where(extra: Location = {}): Location {
    return this.options.file !== undefined ? { file: this.options.file, ...extra } : { ...extra };
  }

  /** A name for a new value in `graph`: the ONNX name, or a fresh one when an enclosing graph uses it. */
  private irName(graph: Graph, scope: Scope, name: string, what: string, location: LocationSource): string {
    if (scope.local(name)) {
      throw onnxError({
        reason: `${what} '${name}' is defined more than once`,
        location: locate(location),
        hint: 'ONNX graphs are in SSA form: each value name is defined once',
      });
    }
    return graph.lookup(name) ? graph.uniqueName(name) : name;
  }

  /**
   * Fills `graph` (already attached to its parent node, if any) from `proto`. With
   * `initializersAreInputs` (the top-level graph of an IR 1–3 model, where every initializer is a
   * graph input) an initializer the input list leaves out is still read as an input with a default.
   */
  importGraph(proto: OnnxTypes.GraphProto, graph: Graph, parentScope: Scope | null = null, depth = 0, initializersAreInputs = false): void {
    if (depth > this.limits.maxNestingDepth) {
      throw limitExceeded('maxNestingDepth', `subgraph nesting (graphs inside node attributes) around '${graph.name}'`, depth, this.limits.maxNestingDepth, this.where({ path: graph.name }));
    }
    const scope = new Scope(parentScope);
    const path = graph.path();
    const graphLoc = this.where({ path });
    graph.name = proto.name ?? graph.name;
    if (proto.doc_string) graph.docString = proto.doc_string;
    for (const entry of proto.metadata_props ?? []) graph.metadata.set(entry.key ?? '', entry.value ?? '');

    for (const info of proto.input ?? []) {
      const name = info.name ?? '';
      const value = graph.addInput(this.irName(graph, scope, name, 'graph input', graphLoc), importType(info.type, graphLoc, 0, `graph input '${name}'`));
      this.applyInfo(value, info);
      scope.bind(name, value);
    }
    const tensorContext = {
      baseDir: this.options.baseDir,
      location: graphLoc,
      lazyRawData: this.options.lazyRawData,
      sources: this.options.sources,
      maxTensorBytes: this.limits.maxTensorBytes,
    };
    const initializerContext = { ...tensorContext, location: () => this.where({ path, node: undefined }) };
    for (const tensorProto of proto.initializer ?? []) {
      const name = tensorProto.name ?? '';
      const tensor = importTensor(tensorProto as OnnxTypes.TensorProto, initializerContext);
      this.addInitializer(graph, scope, name, tensor, graphLoc, initializersAreInputs);
      const value = scope.local(name)!;
      if (tensorProto.doc_string) value.docString = tensorProto.doc_string;
      for (const entry of tensorProto.metadata_props ?? []) value.metadata.set(entry.key ?? '', entry.value ?? '');
    }
    for (const sparseProto of proto.sparse_initializer ?? []) {
      const sparse = importSparseTensor(sparseProto as OnnxTypes.SparseTensorProto, tensorContext);
      const name = sparseProto.values?.name ?? '';
      const existing = scope.local(name);
      if (existing && existing.isGraphInput && !existing.constant && !existing.sparseConstant) {
        existing.sparseConstant = sparse;
        continue;
      }
      const value = graph.addConstant(this.irName(graph, scope, name, 'sparse initializer', graphLoc), sparse.values);
      value.constant = undefined;
      value.sparseConstant = sparse;
      value.type = { kind: 'tensor', dtype: sparse.values.dtype, shape: sparse.dims };
      scope.bind(name, value);
    }

    // Pass 1: every node with its outputs, so inputs (and subgraphs) may refer to any value.
    const nodes: [Node, OnnxTypes.NodeProto][] = [];
    const names = new NodeNamer(proto.node ?? []);
    for (const nodeProto of proto.node ?? []) nodes.push([this.createNode(graph, scope, nodeProto as OnnxTypes.NodeProto, path, names), nodeProto as OnnxTypes.NodeProto]);
    // Pass 2: inputs, attributes and subgraphs.
    for (const [node, nodeProto] of nodes) this.connectNode(node, nodeProto, scope, depth);
    rejectCycles(graph, graphLoc);

    const outputs: Value[] = [];
    for (const info of proto.output ?? []) {
      const name = info.name ?? '';
      const value = scope.resolve(name);
      if (!value) {
        throw onnxError({ reason: `graph output '${name}' is not defined`, location: graphLoc, hint: 'an output must be a graph input, an initializer or a node output' });
      }
      const type = importType(info.type, graphLoc, 0, `graph output '${name}'`);
      if (type.kind !== 'unknown') value.type = type;
      this.applyInfo(value, info);
      outputs.push(value);
    }
    graph.setOutputs(outputs);

    for (const info of proto.value_info ?? []) {
      const value = scope.local(info.name ?? '');
      if (!value) continue;
      const type = importType(info.type, graphLoc, 0, `value_info '${info.name ?? ''}'`);
      if (type.kind !== 'unknown') value.type = type;
      this.applyInfo(value, info);
      markDeclaredValueInfo(value);
    }
    importGraphAnnotations(proto, graph);
  }

  private applyInfo(value: Value, info: OnnxTypes.ValueInfoProto.$Properties): void {
    if (info.doc_string) value.docString = info.doc_string;
    for (const entry of info.metadata_props ?? []) value.metadata.set(entry.key ?? '', entry.value ?? '');
    importDenotation(info.type, value);
  }

  private addInitializer(graph: Graph, scope: Scope, name: string, tensor: Tensor, location: Location, isInput: boolean): void {
    const existing = scope.local(name);
    if (existing && existing.isGraphInput && !existing.constant) {
      // A graph input with a default value (IR < 4 lists every initializer as an input too).
      graph.markConstant(existing, tensor);
      return;
    }
    if (isInput && !existing) {
      const input = graph.addInput(this.irName(graph, scope, name, 'initializer', location), tensorType(tensor.dtype, tensor.shape, tensor.quant));
      graph.markConstant(input, tensor);
      scope.bind(name, input);
      return;
    }
    const value = graph.addConstant(this.irName(graph, scope, name, 'initializer', location), tensor);
    scope.bind(name, value);
  }

  private createNode(graph: Graph, scope: Scope, proto: OnnxTypes.NodeProto, path: string, names: NodeNamer): Node {
    const opType = proto.op_type ?? '';
    const dialect = dialectOfDomain(proto.domain);
    const nodeName = proto.name ?? '';
    const op = `${dialect}.${opType}`;
    let located: Location | undefined;
    const location = (): Location => (located ??= this.where({ node: nodeName || undefined, op, path }));
    if (!opType) throw onnxError({ reason: 'node has no op_type', location: location() });
    if (opType.includes('.')) {
      // The IR spells an op `dialect.OpType` and splits at the last '.', so 'a.b' would come back
      // as op_type 'b' in domain '<domain>.a': refused rather than rewritten silently.
      throw onnxError({
        reason: `node op_type '${opType}' contains '.', which modelpass cannot keep apart from the domain`,
        expected: 'an op_type without dots (the domain goes in the node\'s domain field)',
        location: location(),
      });
    }
    if (++this.nodeCount > this.limits.maxNodeCount) {
      throw limitExceeded('maxNodeCount', 'the number of nodes (all graphs, subgraphs and functions)', this.nodeCount, this.limits.maxNodeCount, location());
    }
    const outputs = (proto.output ?? []).map((name) => (name === '' ? null : { name: this.irName(graph, scope, name, 'value', location) }));
    const node = graph.createNode({
      op,
      outputs,
      name: nodeName || names.generated(opType),
      loc: this.where({ node: nodeName || undefined }),
    });
    if (!nodeName) node.metadata.set(META_UNNAMED, 'true');
    (proto.output ?? []).forEach((name, index) => {
      const value = node.outputs[index];
      if (value) scope.bind(name, value);
    });
    if (proto.doc_string) node.docString = proto.doc_string;
    if (proto.overload) node.overload = proto.overload;
    for (const entry of proto.metadata_props ?? []) node.metadata.set(entry.key ?? '', entry.value ?? '');
    importNodeAnnotations(proto, node);
    void DEFAULT_DIALECT;
    return node;
  }

  private connectNode(node: Node, proto: OnnxTypes.NodeProto, scope: Scope, depth: number): void {
    // The node's location is only needed to report an error (building it for every node cost ~18% of a read).
    let located: Location | undefined;
    const fileLocation = (): Location => (located ??= this.where({ node: node.name, op: node.op, path: node.graph?.pathTo(node) }));
    node.setInputs(
      (proto.input ?? []).map((name) => {
        if (name === '') return null;
        const value = scope.resolve(name);
        if (!value) {
          throw onnxError({
            reason: `input '${name}' of node '${node.name}' is not defined in this graph or an enclosing one`,
            location: fileLocation(),
          });
        }
        return value;
      }),
    );
    const attributes = proto.attribute;
    if (!attributes || attributes.length === 0) return;
    const attributeContext = {
      baseDir: this.options.baseDir,
      location: fileLocation,
      sources: this.options.sources,
      maxTensorBytes: this.limits.maxTensorBytes,
    };
    for (const attributeProto of attributes) {
      const name = attributeProto.name ?? '';
      if (!name) throw onnxError({ reason: 'attribute has no name', location: fileLocation() });
      // ONNX Runtime refuses the file ("Attribute 'strides' appeared multiple times"); keeping one of them silently picked a meaning.
      if (node.hasAttribute(name)) {
        throw onnxError({ reason: `attribute '${name}' of node '${node.name}' appears more than once`, expected: 'each attribute once per node', location: fileLocation() });
      }
      const imported = importAttribute(attributeProto as OnnxTypes.AttributeProto, attributeContext);
      node.setAttribute(name, imported.attribute);
      if (imported.exactInt64 !== undefined) node.metadata.set(META_INT64_PREFIX + name, imported.exactInt64);
      for (const [subgraph, subproto] of imported.pendingGraphs) this.importGraph(subproto, subgraph, scope, depth + 1);
    }
  }

  /** A function body: formal inputs and outputs are names; their types are unknown. */
  importFunctionBody(proto: OnnxTypes.FunctionProto, graph: Graph): void {
    const scope = new Scope(null);
    const location = this.where({ path: graph.name });
    for (const name of proto.input ?? []) scope.bind(name, graph.addInput(this.irName(graph, scope, name, 'function input', location)));
    const nodes: [Node, OnnxTypes.NodeProto][] = [];
    const names = new NodeNamer(proto.node ?? []);
    for (const nodeProto of proto.node ?? []) nodes.push([this.createNode(graph, scope, nodeProto as OnnxTypes.NodeProto, graph.name, names), nodeProto as OnnxTypes.NodeProto]);
    for (const [node, nodeProto] of nodes) this.connectNode(node, nodeProto, scope, 1);
    rejectCycles(graph, location);
    graph.setOutputs(
      (proto.output ?? []).map((name) => {
        const value = scope.resolve(name);
        if (!value) throw onnxError({ reason: `function output '${name}' is not defined`, location });
        return value;
      }),
    );
    for (const info of proto.value_info ?? []) {
      const value = scope.local(info.name ?? '');
      if (!value) continue;
      const type = importType(info.type, location, 0, `value_info '${info.name ?? ''}'`);
      if (type.kind !== 'unknown') value.type = type;
      markDeclaredValueInfo(value);
    }
  }
}
