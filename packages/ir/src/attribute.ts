import type { Graph } from './graph.js';
import type { Tensor } from './tensor.js';
import type { Type } from './type.js';

/** A sparse tensor in COO form, as ONNX's SparseTensorProto: values at indices within dims. */
export interface SparseTensor {
  readonly values: Tensor;
  /** int64 `[NNZ, rank]` or linearized `[NNZ]` indices. */
  readonly indices: Tensor;
  readonly dims: readonly number[];
}

export type AttributeKind =
  | 'float'
  | 'int'
  | 'string'
  | 'tensor'
  | 'graph'
  | 'sparse-tensor'
  | 'type'
  | 'floats'
  | 'ints'
  | 'strings'
  | 'tensors'
  | 'graphs'
  | 'sparse-tensors'
  | 'types';

export interface AttributeValueMap {
  float: number;
  int: number;
  string: string;
  tensor: Tensor;
  graph: Graph;
  'sparse-tensor': SparseTensor;
  type: Type;
  floats: readonly number[];
  ints: readonly number[];
  strings: readonly string[];
  tensors: readonly Tensor[];
  graphs: readonly Graph[];
  'sparse-tensors': readonly SparseTensor[];
  types: readonly Type[];
}

/** A concrete attribute: its kind says how to read `value`. */
export type ConcreteAttribute = {
  [K in AttributeKind]: { readonly kind: K; readonly value: AttributeValueMap[K] };
}[AttributeKind];

/**
 * Inside a model-local function body, an attribute may refer to one of the function's own
 * attributes (ONNX `ref_attr_name`).
 */
export interface AttributeReference {
  readonly kind: 'ref';
  readonly refKind: AttributeKind;
  readonly refName: string;
}

export type Attribute = ConcreteAttribute | AttributeReference;

export const ATTRIBUTE_KINDS: readonly AttributeKind[] = [
  'float',
  'int',
  'string',
  'tensor',
  'graph',
  'sparse-tensor',
  'type',
  'floats',
  'ints',
  'strings',
  'tensors',
  'graphs',
  'sparse-tensors',
  'types',
];

export function attr<K extends AttributeKind>(kind: K, value: AttributeValueMap[K]): Attribute {
  return { kind, value } as Attribute;
}

export const attrs = {
  float: (value: number): Attribute => ({ kind: 'float', value }),
  int: (value: number): Attribute => ({ kind: 'int', value }),
  string: (value: string): Attribute => ({ kind: 'string', value }),
  tensor: (value: Tensor): Attribute => ({ kind: 'tensor', value }),
  graph: (value: Graph): Attribute => ({ kind: 'graph', value }),
  floats: (value: readonly number[]): Attribute => ({ kind: 'floats', value }),
  ints: (value: readonly number[]): Attribute => ({ kind: 'ints', value }),
  strings: (value: readonly string[]): Attribute => ({ kind: 'strings', value }),
  graphs: (value: readonly Graph[]): Attribute => ({ kind: 'graphs', value }),
  tensors: (value: readonly Tensor[]): Attribute => ({ kind: 'tensors', value }),
  type: (value: Type): Attribute => ({ kind: 'type', value }),
  types: (value: readonly Type[]): Attribute => ({ kind: 'types', value }),
};

/** Graphs held by an attribute (for If/Loop/Scan bodies). */
export function graphsOf(attribute: Attribute): readonly Graph[] {
  if (attribute.kind === 'graph') return [attribute.value];
  if (attribute.kind === 'graphs') return attribute.value;
  return [];
}
