import { type Attribute, type Graph, type Node, type Value } from '@modelpass/ir';
import { exportDenotation, exportGraphAnnotations, exportNodeAnnotations, META_DENOTATION } from '../annotations.js';
import { domainOfDialect, META_INT64_PREFIX, META_PREFIX, META_UNNAMED } from '../dialect.js';
import { onnxError } from '../errors.js';
import { int64FromAttribute } from '../int64.js';
import type { OnnxTypes } from '../proto.js';
import { exportType } from '../type-convert.js';
import { ATTRIBUTE_CODE_BY_KIND } from '../import/attribute-import.js';
import { sparseTensorProto, tensorProto } from './tensor-export.js';
import { DEFAULT_VALUE_INFO_POLICY, writesValueInfo, type ValueInfoPolicy } from './value-info-policy.js';

const utf8 = new TextEncoder();

export interface GraphExportOptions {
  /**
   * IR version being written. For IR 1–3 every initializer of the top-level graph is also listed as
   * a graph input (IR.md: IR 4 relaxed "initializers should be a subset of graph inputs"), see
   * `initializersMustBeInputs`.
   */
  readonly irVersion: number;
  /** True for a graph inside a node attribute (its inputs are the op's positional signature). */
  readonly subgraph?: boolean;
  /**
   * Leave these constants out of `initializer`; the model writer adds them itself (streamed or external).
   * Only used for the top-level graph.
   */
  readonly skipInitializers?: ReadonlySet<Value>;
}

function metadataProps(metadata: ReadonlyMap<string, string>): OnnxTypes.StringStringEntryProto.$Properties[] | undefined {
  const entries = [...metadata].filter(([key]) => !key.startsWith(META_PREFIX));
  return entries.length > 0 ? entries.map(([key, value]) => ({ key, value })) : undefined;
}

/** Whether the value was read with a TypeProto denotation ('TENSOR', 'IMAGE', …) of its own. */
function hasTypeDenotation(value: Value): boolean {
  const text = value.metadata.get(META_DENOTATION);
  if (text === undefined) return false;
  try {
    const denotation = JSON.parse(text) as { kind?: unknown; type?: unknown };
    return denotation.kind === value.type.kind && typeof denotation.type === 'string' && denotation.type !== '';
  } catch {
    return false;
  }
}

export function valueInfo(value: Value): OnnxTypes.ValueInfoProto.$Properties {
  const info: OnnxTypes.ValueInfoProto.$Properties = { name: value.name };
  // A type read with only its denotation (TypeProto { denotation } and no value, which onnx.proto allows) imports as
  // unknown: it is written back as that bare TypeProto, so the denotation survives the round trip (fuzz finding).
  const type = exportType(value.type) ?? (value.type.kind === 'unknown' && hasTypeDenotation(value) ? {} : undefined);
  if (type) info.type = type;
  exportDenotation(value, type);
  if (value.docString) info.doc_string = value.docString;
  const metadata = metadataProps(value.metadata);
  if (metadata) info.metadata_props = metadata;
  return info;
}

export class GraphExporter {
  constructor(
    private readonly irVersion: number,
    private readonly valueInfoPolicy: ValueInfoPolicy = DEFAULT_VALUE_INFO_POLICY,
  ) {}

  exportGraph(graph: Graph, options: GraphExportOptions): OnnxTypes.GraphProto.$Properties {
    const proto: OnnxTypes.GraphProto.$Properties = { name: graph.name };
    if (graph.docString) proto.doc_string = graph.docString;
    const metadata = metadataProps(graph.metadata);
    if (metadata) proto.metadata_props = metadata;

    proto.node = graph.nodeList().map((node) => this.exportNode(node));

    const inputs = [...graph.inputs];
    if (!options.subgraph && initializersMustBeInputs(this.irVersion)) {
      for (const value of graph.constants) if (!inputs.includes(value) && value.constant) inputs.push(value);
    }
    proto.input = inputs.map(valueInfo);
    proto.output = graph.outputs.map(valueInfo);

    proto.initializer = [];
    proto.sparse_initializer = [];
    for (const value of graph.constants) {
      if (options.skipInitializers?.has(value)) continue;
      if (value.constant) {
        proto.initializer.push(tensorProto(value.constant, initializerOptions(value)));
      } else if (value.sparseConstant) {
        proto.sparse_initializer.push(sparseTensorProto(value.sparseConstant, value.name));
      }
    }

    const outputs = new Set(graph.outputs);
    const infos: OnnxTypes.ValueInfoProto.$Properties[] = [];
    for (const node of graph.nodes()) {
      for (const value of node.outputs) {
        if (value && !outputs.has(value) && writesValueInfo(value, this.valueInfoPolicy)) infos.push(valueInfo(value));
      }
    }
    if (infos.length > 0) proto.value_info = infos;
    exportGraphAnnotations(graph, proto);
    return proto;
  }

  exportNode(node: Node): OnnxTypes.NodeProto.$Properties {
    const proto: OnnxTypes.NodeProto.$Properties = {
      input: node.inputs.map((value) => value?.name ?? ''),
      output: node.outputs.map((value) => value?.name ?? ''),
      op_type: node.opType,
    };
    // Every output slot is written, trailing omitted ones ('') included: the import keeps them,
    // so the node's output count survives a round trip exactly.
    if (node.metadata.get(META_UNNAMED) !== 'true') proto.name = node.name;
    const domain = domainOfDialect(node.dialect);
    if (domain) proto.domain = domain;
    if (node.overload) proto.overload = node.overload;
    if (node.docString) proto.doc_string = node.docString;
    const metadata = metadataProps(node.metadata);
    if (metadata) proto.metadata_props = metadata;
    exportNodeAnnotations(node, proto);
    proto.attribute = [...node.attributes].map(([name, attribute]) =>
      this.exportAttribute(name, attribute, node.metadata.get(META_INT64_PREFIX + name), node),
    );
    return proto;
  }

  exportAttribute(name: string, attribute: Attribute, exactInt64: string | undefined, node?: Node): OnnxTypes.AttributeProto.$Properties {
    if (attribute.kind === 'ref') {
      return { name, ref_attr_name: attribute.refName, type: ATTRIBUTE_CODE_BY_KIND.get(attribute.refKind)! };
    }
    const type = ATTRIBUTE_CODE_BY_KIND.get(attribute.kind);
    if (type === undefined) {
      throw onnxError({ reason: `attribute '${name}' has an unknown kind '${(attribute as { kind: string }).kind}'`, location: node?.location });
    }
    const proto: OnnxTypes.AttributeProto.$Properties = { name, type };
    switch (attribute.kind) {
      case 'float':
        proto.f = attribute.value;
        break;
      case 'int':
        proto.i = int64FromAttribute(attribute.value, exactInt64);
        break;
      case 'string':
        proto.s = utf8.encode(attribute.value);
        break;
      case 'tensor':
        proto.t = tensorProto(attribute.value);
        break;
      case 'graph':
        proto.g = this.exportGraph(attribute.value, { irVersion: this.irVersion, subgraph: true });
        break;
      case 'sparse-tensor':
        proto.sparse_tensor = sparseTensorProto(attribute.value);
        break;
      case 'type':
        proto.tp = exportType(attribute.value) ?? {};
        break;
      case 'floats':
        proto.floats = [...attribute.value];
        break;
      case 'ints': {
        const exact = exactInt64?.split(',');
        proto.ints = attribute.value.map((v, i) => int64FromAttribute(v, exact && exact.length === attribute.value.length ? exact[i] : undefined));
        break;
      }
      case 'strings':
        proto.strings = attribute.value.map((s) => utf8.encode(s));
        break;
      case 'tensors':
        proto.tensors = attribute.value.map((t) => tensorProto(t));
        break;
      case 'graphs':
        proto.graphs = attribute.value.map((g) => this.exportGraph(g, { irVersion: this.irVersion, subgraph: true }));
        break;
      case 'sparse-tensors':
        proto.sparse_tensors = attribute.value.map((s) => sparseTensorProto(s));
        break;
      case 'types':
        proto.type_protos = attribute.value.map((t) => exportType(t) ?? {});
        break;
    }
    return proto;
  }
}

/**
 * True for IR versions 1–3, where every initializer must also be a graph input (IR 4 relaxed it).
 * 0 means "not set", not an old IR, so it does not count. The import (`GraphImporter`) reads such
 * an initializer as a graph input with a default value, so the round trip is exact.
 */
export function initializersMustBeInputs(irVersion: number | undefined): boolean {
  return irVersion !== undefined && irVersion >= 1 && irVersion < 4;
}

export function initializerOptions(value: Value): { name: string; docString?: string; metadata?: ReadonlyMap<string, string> } {
  const options: { name: string; docString?: string; metadata?: ReadonlyMap<string, string> } = { name: value.name };
  if (value.docString && !value.isGraphInput) options.docString = value.docString;
  const metadata = new Map([...value.metadata].filter(([key]) => !key.startsWith(META_PREFIX)));
  if (metadata.size > 0 && !value.isGraphInput) options.metadata = metadata;
  return options;
}
