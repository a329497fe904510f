import { onnxCodeOf, type SparseTensor, type Tensor } from '@modelpass/ir';
import type { OnnxTypes } from '../proto.js';

const utf8 = new TextEncoder();

export interface ExternalPlacement {
  readonly location: string;
  readonly offset: number;
  readonly length: number;
}

export interface TensorProtoOptions {
  readonly name?: string;
  /** Leave raw_data out (the caller streams it after the header). */
  readonly omitRawData?: boolean;
  /** Point the tensor at external data instead of holding its bytes. */
  readonly external?: ExternalPlacement;
  readonly docString?: string;
  readonly metadata?: ReadonlyMap<string, string>;
}

/** A Tensor as TensorProto fields: raw_data for every non-string dtype, string_data for strings. */
export function tensorProto(tensor: Tensor, options: TensorProtoOptions = {}): OnnxTypes.TensorProto.$Properties {
  const proto: OnnxTypes.TensorProto.$Properties = {
    dims: [...tensor.shape],
    data_type: onnxCodeOf(tensor.dtype),
  };
  if (options.name !== undefined && options.name !== '') proto.name = options.name;
  if (options.docString) proto.doc_string = options.docString;
  if (options.metadata && options.metadata.size > 0) {
    proto.metadata_props = [...options.metadata].map(([key, value]) => ({ key, value }));
  }
  if (tensor.dtype === 'string') {
    proto.string_data = (tensor.strings ?? []).map((s) => utf8.encode(s));
  } else if (options.external) {
    proto.data_location = 1;
    proto.external_data = [
      { key: 'location', value: options.external.location },
      { key: 'offset', value: String(options.external.offset) },
      { key: 'length', value: String(options.external.length) },
    ];
  } else if (!options.omitRawData) {
    proto.raw_data = tensor.bytes();
  }
  return proto;
}

export function sparseTensorProto(sparse: SparseTensor, name?: string): OnnxTypes.SparseTensorProto.$Properties {
  return {
    values: tensorProto(sparse.values, name !== undefined ? { name } : {}),
    indices: tensorProto(sparse.indices),
    dims: [...sparse.dims],
  };
}
