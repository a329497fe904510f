import { Graph, type Attribute, type AttributeKind, type Location } from '@modelpass/ir';
import { onnxError } from '../errors.js';
import { int64AttributeValue } from '../int64.js';
import { has, type OnnxTypes } from '../proto.js';
import { importType } from '../type-convert.js';
import { decodeUtf8, importSparseTensor, importTensor, locate, type LocationSource, type TensorImportContext } from './tensor-import.js';

/** `AttributeProto.AttributeType` codes and the IR attribute kinds they become. */
export const ATTRIBUTE_KIND_BY_CODE: ReadonlyMap<number, AttributeKind> = new Map<number, AttributeKind>([
  [1, 'float'],
  [2, 'int'],
  [3, 'string'],
  [4, 'tensor'],
  [5, 'graph'],
  [6, 'floats'],
  [7, 'ints'],
  [8, 'strings'],
  [9, 'tensors'],
  [10, 'graphs'],
  [11, 'sparse-tensor'],
  [12, 'sparse-tensors'],
  [13, 'type'],
  [14, 'types'],
]);

export const ATTRIBUTE_CODE_BY_KIND: ReadonlyMap<AttributeKind, number> = new Map(
  [...ATTRIBUTE_KIND_BY_CODE].map(([code, kind]) => [kind, code]),
);

/** Old files may leave `type` unset: the kind is then the field that holds a value. */
const KIND_BY_FIELD: readonly [keyof OnnxTypes.AttributeProto.$Properties, AttributeKind, boolean][] = [
  ['f', 'float', false],
  ['i', 'int', false],
  ['s', 'string', false],
  ['t', 'tensor', false],
  ['g', 'graph', false],
  ['sparse_tensor', 'sparse-tensor', false],
  ['tp', 'type', false],
  ['floats', 'floats', true],
  ['ints', 'ints', true],
  ['strings', 'strings', true],
  ['tensors', 'tensors', true],
  ['graphs', 'graphs', true],
  ['sparse_tensors', 'sparse-tensors', true],
  ['type_protos', 'types', true],
];

function inferKind(proto: OnnxTypes.AttributeProto): AttributeKind | undefined {
  for (const [field, kind, repeated] of KIND_BY_FIELD) {
    const value = (proto as unknown as Record<string, unknown>)[field];
    if (repeated ? Array.isArray(value) && value.length > 0 : has(proto, field)) return kind;
  }
  return undefined;
}

export interface ImportedAttribute {
  readonly attribute: Attribute;
  /** Subgraphs (already inside `attribute`, still empty) with the protos to fill them from. */
  readonly pendingGraphs: readonly [Graph, OnnxTypes.GraphProto][];
  /** Exact decimal text of int64 values a number cannot hold (`ints`: comma-separated). */
  readonly exactInt64?: string;
}

/** The attribute's kind; `location` is only used for an error. */
export function attributeKindOf(proto: OnnxTypes.AttributeProto, location: LocationSource): AttributeKind {
  const name = proto.name ?? '';
  const where = (): Location => locate(location);
  if (proto.type) {
    const kind = ATTRIBUTE_KIND_BY_CODE.get(proto.type);
    if (!kind) {
      throw onnxError({ reason: `attribute '${name}' has an unknown type`, location: where(), expected: 'an AttributeType code 1 to 14', actual: String(proto.type) });
    }
    return kind;
  }
  const kind = inferKind(proto);
  if (!kind) throw onnxError({ reason: `attribute '${name}' has neither a type nor a value`, location: where() });
  return kind;
}

/**
 * Converts one AttributeProto. Graph values come back empty, listed in `pendingGraphs`. The context's
 * location is resolved only if an error is reported (the reader passes a function: most attributes never need theirs).
 */
export function importAttribute(proto: OnnxTypes.AttributeProto, context: TensorImportContext): ImportedAttribute {
  let located: Location | undefined;
  const where = (): Location => (located ??= locate(context.location));
  const kind = attributeKindOf(proto, where);
  if (proto.ref_attr_name) {
    return { attribute: { kind: 'ref', refKind: kind, refName: proto.ref_attr_name }, pendingGraphs: [] };
  }
  const tensorContext = (): TensorImportContext => ({ ...context, location: () => ({ ...where() }) });
  const pendingGraphs: [Graph, OnnxTypes.GraphProto][] = [];
  const graphOf = (g: OnnxTypes.GraphProto): Graph => {
    const graph = new Graph(g.name || `${proto.name ?? 'graph'}`);
    pendingGraphs.push([graph, g]);
    return graph;
  };
  switch (kind) {
    case 'float':
      return { attribute: { kind, value: proto.f ?? 0 }, pendingGraphs };
    case 'int': {
      const { number, exact } = int64AttributeValue(proto.i ?? 0);
      return exact === undefined ? { attribute: { kind, value: number }, pendingGraphs } : { attribute: { kind, value: number }, pendingGraphs, exactInt64: exact };
    }
    case 'string':
      return { attribute: { kind, value: decodeUtf8(proto.s ?? new Uint8Array(), `string attribute '${proto.name}'`, where) }, pendingGraphs };
    case 'tensor':
      if (!proto.t) throw onnxError({ reason: `attribute '${proto.name}' has no tensor`, location: where() });
      return { attribute: { kind, value: importTensor(proto.t as OnnxTypes.TensorProto, tensorContext()) }, pendingGraphs };
    case 'graph':
      if (!proto.g) throw onnxError({ reason: `attribute '${proto.name}' has no graph`, location: where() });
      return { attribute: { kind, value: graphOf(proto.g as OnnxTypes.GraphProto) }, pendingGraphs };
    case 'sparse-tensor':
      if (!proto.sparse_tensor) throw onnxError({ reason: `attribute '${proto.name}' has no sparse tensor`, location: where() });
      return { attribute: { kind, value: importSparseTensor(proto.sparse_tensor as OnnxTypes.SparseTensorProto, tensorContext()) }, pendingGraphs };
    case 'type':
      return { attribute: { kind, value: importType(proto.tp, where()) }, pendingGraphs };
    case 'floats':
      return { attribute: { kind, value: [...(proto.floats ?? [])] }, pendingGraphs };
    case 'ints': {
      const converted = (proto.ints ?? []).map(int64AttributeValue);
      const value = converted.map((c) => c.number);
      const attribute: Attribute = { kind, value };
      if (converted.some((c) => c.exact !== undefined)) {
        const exact = (proto.ints ?? []).map((v) => v.toString()).join(',');
        return { attribute, pendingGraphs, exactInt64: exact };
      }
      return { attribute, pendingGraphs };
    }
    case 'strings':
      return {
        attribute: { kind, value: (proto.strings ?? []).map((bytes, i) => decodeUtf8(bytes, `element ${i} of strings attribute '${proto.name}'`, where)) },
        pendingGraphs,
      };
    case 'tensors':
      return { attribute: { kind, value: (proto.tensors ?? []).map((t) => importTensor(t as OnnxTypes.TensorProto, tensorContext())) }, pendingGraphs };
    case 'graphs':
      return { attribute: { kind, value: (proto.graphs ?? []).map((g) => graphOf(g as OnnxTypes.GraphProto)) }, pendingGraphs };
    case 'sparse-tensors':
      return {
        attribute: { kind, value: (proto.sparse_tensors ?? []).map((s) => importSparseTensor(s as OnnxTypes.SparseTensorProto, tensorContext())) },
        pendingGraphs,
      };
    case 'types':
      return { attribute: { kind, value: (proto.type_protos ?? []).map((t) => importType(t, where())) }, pendingGraphs };
  }
}
