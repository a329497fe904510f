/**
 * Structural equality of models, for tests everywhere: `modelsEqual(a, b)` returns undefined when
 * the models hold the same IR (names, types, attributes, tensor bytes bit-exact, order), or a line
 * naming the first difference, e.g. `graph main / node 'conv1' / attribute 'strides': [1,1] vs [2,2]`.
 * Where a model came from (`sourceFormat`, `sourcePath`) is not compared; node source locations
 * are, unless `{ locations: false }`.
 */
import type { Attribute, SparseTensor } from '../attribute.js';
import type { Location } from '../diagnostic.js';
import type { Graph } from '../graph.js';
import type { Model, ModelFunction } from '../model.js';
import type { Node } from '../node.js';
import type { Tensor } from '../tensor.js';
import { formatType, tensorType, typesEqual } from '../type.js';
import type { Value } from '../value.js';

class Difference {
  constructor(readonly text: string) {}
}

function differ(path: string, what: string, a: unknown, b: unknown): never {
  throw new Difference(`${path}: ${what} differs: ${show(a)} vs ${show(b)}`);
}

function show(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === undefined) return 'undefined';
  try {
    const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    return text.length > 120 ? text.slice(0, 120) + '…' : text;
  } catch {
    return String(value);
  }
}

function same(path: string, what: string, a: unknown, b: unknown): void {
  if (!Object.is(a, b)) differ(path, what, a, b);
}

function sameMaps<V>(path: string, what: string, a: ReadonlyMap<string, V>, b: ReadonlyMap<string, V>, compare: (p: string, x: V, y: V) => void = (p, x, y) => same(p, 'value', x, y)): void {
  const keysA = [...a.keys()];
  const keysB = [...b.keys()];
  if (keysA.length !== keysB.length || keysA.some((k, i) => k !== keysB[i])) differ(path, `${what} keys`, keysA, keysB);
  for (const key of keysA) compare(`${path} / ${what} '${key}'`, a.get(key)!, b.get(key)!);
}

function sameNumbers(path: string, what: string, a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length || a.some((x, i) => !Object.is(x, b[i]))) differ(path, what, a, b);
}

/** Whether the comparison running now compares node locations (see `EqualityOptions`). */
let compareLocations = true;

function sameLocation(path: string, a: Location, b: Location): void {
  if (!compareLocations) return;
  for (const key of ['file', 'line', 'column', 'node', 'op', 'path'] as const) same(path, `loc.${key}`, a[key], b[key]);
}

function sameTensor(path: string, a: Tensor, b: Tensor): void {
  same(path, 'dtype', a.dtype, b.dtype);
  sameNumbers(path, 'shape', a.shape, b.shape);
  if (!typesEqual(tensorType(a.dtype, a.shape, a.quant), tensorType(b.dtype, b.shape, b.quant))) {
    differ(path, 'quantization', a.quant, b.quant);
  }
  if (a.dtype === 'string') {
    const sa = a.strings ?? [];
    const sb = b.strings ?? [];
    const index = sa.findIndex((s, i) => s !== sb[i]);
    if (index >= 0) differ(path, `string element ${index}`, sa[index], sb[index]);
    return;
  }
  const ra = a.storage as { kind: string; path?: string; offset?: number } | undefined;
  const rb = b.storage as { kind: string; path?: string; offset?: number } | undefined;
  // Two references to the same file range are equal without reading it.
  if (ra?.kind === 'file-range' && rb?.kind === 'file-range' && ra.path === rb.path && ra.offset === rb.offset && a.byteLength === b.byteLength) return;
  const ba = a.bytes();
  const bb = b.bytes();
  if (ba.byteLength !== bb.byteLength) differ(path, 'byte length', ba.byteLength, bb.byteLength);
  for (let i = 0; i < ba.byteLength; i++) if (ba[i] !== bb[i]) differ(path, `byte ${i}`, ba[i], bb[i]);
}

function sameSparse(path: string, a: SparseTensor, b: SparseTensor): void {
  sameNumbers(path, 'sparse dims', a.dims, b.dims);
  sameTensor(`${path} / values`, a.values, b.values);
  sameTensor(`${path} / indices`, a.indices, b.indices);
}

function sameAttribute(path: string, a: Attribute, b: Attribute): void {
  same(path, 'kind', a.kind, b.kind);
  if (a.kind === 'ref' || b.kind === 'ref') {
    const ra = a as Extract<Attribute, { kind: 'ref' }>;
    const rb = b as Extract<Attribute, { kind: 'ref' }>;
    same(path, 'referenced kind', ra.refKind, rb.refKind);
    same(path, 'referenced name', ra.refName, rb.refName);
    return;
  }
  const va = a.value as unknown;
  const vb = b.value as unknown;
  const each = <T>(compare: (p: string, x: T, y: T) => void) => {
    const la = va as readonly T[];
    const lb = vb as readonly T[];
    same(path, 'list length', la.length, lb.length);
    la.forEach((x, i) => compare(`${path}[${i}]`, x, lb[i]!));
  };
  switch (a.kind) {
    case 'float':
    case 'int':
    case 'string':
      return same(path, 'value', va, vb);
    case 'floats':
    case 'ints':
      return sameNumbers(path, 'values', va as number[], vb as number[]);
    case 'strings':
      return each<string>((p, x, y) => same(p, 'value', x, y));
    case 'tensor':
      return sameTensor(path, va as Tensor, vb as Tensor);
    case 'tensors':
      return each<Tensor>(sameTensor);
    case 'sparse-tensor':
      return sameSparse(path, va as SparseTensor, vb as SparseTensor);
    case 'sparse-tensors':
      return each<SparseTensor>(sameSparse);
    case 'type':
      if (!typesEqual(va as never, vb as never)) differ(path, 'type', formatType(va as never), formatType(vb as never));
      return;
    case 'types':
      return each((p, x, y) => {
        if (!typesEqual(x as never, y as never)) differ(p, 'type', formatType(x as never), formatType(y as never));
      });
    case 'graph':
      return sameGraph(path, va as Graph, vb as Graph);
    case 'graphs':
      return each<Graph>(sameGraph);
  }
}

/** Metadata of values and nodes without creating the maps they do not have. */
const NO_METADATA: ReadonlyMap<string, string> = new Map();
const metadataOf = (x: Value | Node): ReadonlyMap<string, string> => x._metadata ?? NO_METADATA;

function sameValueDefinition(path: string, a: Value, b: Value): void {
  same(path, 'value name', a.name, b.name);
  const where = `${path} / %${a.name}`;
  if (!typesEqual(a.type, b.type)) differ(where, 'type', formatType(a.type), formatType(b.type));
  same(where, 'doc', a.docString, b.docString);
  sameMaps(where, 'metadata', metadataOf(a), metadataOf(b));
  same(where, 'has constant', a.constant !== undefined, b.constant !== undefined);
  if (a.constant && b.constant) sameTensor(`${where} / constant`, a.constant, b.constant);
  same(where, 'has sparse constant', a.sparseConstant !== undefined, b.sparseConstant !== undefined);
  if (a.sparseConstant && b.sparseConstant) sameSparse(`${where} / sparse constant`, a.sparseConstant, b.sparseConstant);
}

function sameReference(path: string, what: string, a: Value | null, b: Value | null): void {
  if (a === null || b === null) {
    if (a !== b) differ(path, what, a?.name ?? null, b?.name ?? null);
    return;
  }
  same(path, what, a.name, b.name);
}

function sameNode(path: string, a: Node, b: Node): void {
  const where = `${path} / node '${a.name}'`;
  same(where, 'op', a.op, b.op);
  same(where, 'name', a.name, b.name);
  same(where, 'input count', a.inputs.length, b.inputs.length);
  a.inputs.forEach((value, i) => sameReference(where, `input #${i}`, value, b.inputs[i]!));
  same(where, 'output count', a.outputs.length, b.outputs.length);
  a.outputs.forEach((value, i) => {
    const other = b.outputs[i]!;
    if (value === null || other === null) sameReference(where, `output #${i}`, value, other);
    else sameValueDefinition(where, value, other);
  });
  sameMaps(where, 'attribute', a.attributes, b.attributes, sameAttribute);
  sameLocation(where, a.loc, b.loc);
  same(where, 'doc', a.docString, b.docString);
  same(where, 'overload', a.overload, b.overload);
  sameMaps(where, 'metadata', metadataOf(a), metadataOf(b));
}

function sameGraph(path: string, a: Graph, b: Graph): void {
  const where = `${path}${path ? ' / ' : ''}graph ${a.name}`;
  same(where, 'name', a.name, b.name);
  same(where, 'doc', a.docString, b.docString);
  sameMaps(where, 'metadata', a.metadata, b.metadata);
  same(where, 'input count', a.inputs.length, b.inputs.length);
  a.inputs.forEach((value, i) => sameValueDefinition(`${where} / input #${i}`, value, b.inputs[i]!));
  same(where, 'constant count', a.constants.length, b.constants.length);
  a.constants.forEach((value, i) => sameValueDefinition(`${where} / constant #${i}`, value, b.constants[i]!));
  same(where, 'node count', a.nodeCount, b.nodeCount);
  for (let x = a.firstNode, y = b.firstNode; x && y; x = x.next, y = y.next) sameNode(where, x, y);
  same(where, 'output count', a.outputs.length, b.outputs.length);
  a.outputs.forEach((value, i) => sameReference(where, `output #${i}`, value, b.outputs[i]!));
}

function sameFunction(path: string, a: ModelFunction, b: ModelFunction): void {
  const where = `${path} / function ${a.dialect}.${a.name}`;
  same(where, 'dialect', a.dialect, b.dialect);
  same(where, 'name', a.name, b.name);
  same(where, 'overload', a.overload, b.overload);
  same(where, 'attribute names', a.attributeNames.join('\u0000'), b.attributeNames.join('\u0000'));
  sameMaps(where, 'attribute default', a.attributeDefaults, b.attributeDefaults, sameAttribute);
  sameMaps(where, 'opset', a.opsetImports, b.opsetImports);
  same(where, 'doc', a.docString, b.docString);
  sameMaps(where, 'metadata', a.metadata, b.metadata);
  sameGraph(where, a.body, b.body);
}

export interface EqualityOptions {
  /**
   * Compare node source locations (`loc`) too (default true). Turn off to compare the same model
   * read from two paths: its nodes' `loc.file` differ.
   */
  readonly locations?: boolean;
}

/**
 * Compares two models structurally; returns undefined when equal, else a description of the
 * first difference. Tensor data is compared bit-exactly (file ranges by path/offset/length).
 */
export function modelsEqual(a: Model, b: Model, options: EqualityOptions = {}): string | undefined {
  compareLocations = options.locations ?? true;
  try {
    const path = 'model';
    same(path, 'ir_version', a.irVersion, b.irVersion);
    same(path, 'producer', a.producerName, b.producerName);
    same(path, 'producer_version', a.producerVersion, b.producerVersion);
    same(path, 'domain', a.domain, b.domain);
    same(path, 'model_version', a.modelVersion, b.modelVersion);
    same(path, 'doc', a.docString, b.docString);
    sameMaps(path, 'opset', a.opsetImports, b.opsetImports);
    sameMaps(path, 'metadata', a.metadata, b.metadata);
    same(path, 'function count', a.functions.length, b.functions.length);
    a.functions.forEach((fn, i) => sameFunction(path, fn, b.functions[i]!));
    sameGraph(path, a.graph, b.graph);
    return undefined;
  } catch (error) {
    if (error instanceof Difference) return error.text;
    throw error;
  }
}

/** Like `modelsEqual` for two graphs. */
export function graphsEqual(a: Graph, b: Graph, options: EqualityOptions = {}): string | undefined {
  compareLocations = options.locations ?? true;
  try {
    sameGraph('', a, b);
    return undefined;
  } catch (error) {
    if (error instanceof Difference) return error.text;
    throw error;
  }
}
