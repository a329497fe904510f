import type { DType, Tensor, Type } from '@modelpass/ir';
import { onnxError, withOnnxErrors } from './errors.js';
import { decodeUtf8, dtypeOfCode, importSparseTensor, importTensor } from './import/tensor-import.js';
import { tensorProto } from './export/tensor-export.js';
import { onnx, type OnnxTypes } from './proto.js';
import { DEFAULT_READ_LIMITS } from './import/read-limits.js';
import { decodeStrict } from './import/strict-decode.js';
import type { SparseTensor } from '@modelpass/ir';

/**
 * A value of ONNX's data files (onnx-data.proto): a tensor, a sparse tensor, a sequence, a map or
 * an optional, as the conformance suite's `input_N.pb` / `output_N.pb` files hold them.
 */
export type OnnxDataValue =
  | { readonly kind: 'tensor'; readonly tensor: Tensor }
  | { readonly kind: 'sparse-tensor'; readonly tensor: SparseTensor }
  | { readonly kind: 'sequence'; readonly elements: readonly OnnxDataValue[] }
  | { readonly kind: 'map'; readonly keyType: DType; readonly keys: readonly (bigint | string)[]; readonly values: OnnxDataValue }
  | { readonly kind: 'optional'; readonly value: OnnxDataValue | null };

export interface DecodeDataOptions {
  /** Folder for external data of the tensors, if any. */
  readonly baseDir?: string;
  /** For diagnostics. */
  readonly file?: string;
}

function decodeWith<T>(what: string, options: DecodeDataOptions, body: () => T): T {
  return withOnnxErrors(`not a valid ${what}`, options.file !== undefined ? { file: options.file } : undefined, body);
}

/** Decodes a serialized TensorProto (e.g. a conformance `input_0.pb`). */
export function decodeTensorProto(bytes: Uint8Array, options: DecodeDataOptions = {}): Tensor {
  return decodeWith('TensorProto', options, () => {
    const proto = decodeStrict(onnx.TensorProto, bytes, DEFAULT_READ_LIMITS.maxNestingDepth);
    return importTensor(proto, { baseDir: options.baseDir, location: options.file !== undefined ? { file: options.file } : {} });
  });
}

/** Serializes a tensor as a TensorProto (raw_data, or string_data for strings). */
export function encodeTensorProto(tensor: Tensor, name?: string): Uint8Array {
  return onnx.TensorProto.encode(tensorProto(tensor, name !== undefined ? { name } : {})).finish();
}

const MAX_DEPTH = 64;

function sequenceValue(proto: OnnxTypes.SequenceProto.$Properties, options: DecodeDataOptions, depth: number): OnnxDataValue {
  if (depth > MAX_DEPTH) throw onnxError({ reason: 'sequence nests too deeply' });
  const context = { baseDir: options.baseDir, location: options.file !== undefined ? { file: options.file } : {} };
  switch (proto.elem_type ?? 0) {
    case 0:
    case 1:
      return { kind: 'sequence', elements: (proto.tensor_values ?? []).map((t) => ({ kind: 'tensor', tensor: importTensor(t as OnnxTypes.TensorProto, context) })) };
    case 2:
      return {
        kind: 'sequence',
        elements: (proto.sparse_tensor_values ?? []).map((t) => ({ kind: 'sparse-tensor', tensor: importSparseTensor(t as OnnxTypes.SparseTensorProto, context) })),
      };
    case 3:
      return { kind: 'sequence', elements: (proto.sequence_values ?? []).map((s) => sequenceValue(s, options, depth + 1)) };
    case 4:
      return { kind: 'sequence', elements: (proto.map_values ?? []).map((m) => mapValue(m, options, depth + 1)) };
    case 5:
      return { kind: 'sequence', elements: (proto.optional_values ?? []).map((o) => optionalValue(o, options, depth + 1)) };
    default:
      throw onnxError({ reason: 'SequenceProto has an unknown elem_type', actual: String(proto.elem_type) });
  }
}

function mapValue(proto: OnnxTypes.MapProto.$Properties, options: DecodeDataOptions, depth: number): OnnxDataValue {
  const keyType = dtypeOfCode(proto.key_type, 'map key', {});
  const keys: (bigint | string)[] =
    keyType === 'string'
      ? (proto.string_keys ?? []).map((k, i) => decodeUtf8(k, `map key ${i}`, options.file !== undefined ? { file: options.file } : {}))
      : (proto.keys ?? []).map((k) => BigInt(k.toString()));
  return { kind: 'map', keyType, keys, values: sequenceValue(proto.values ?? {}, options, depth + 1) };
}

function optionalValue(proto: OnnxTypes.OptionalProto.$Properties, options: DecodeDataOptions, depth: number): OnnxDataValue {
  if (depth > MAX_DEPTH) throw onnxError({ reason: 'optional nests too deeply' });
  const context = { baseDir: options.baseDir, location: options.file !== undefined ? { file: options.file } : {} };
  switch (proto.elem_type ?? 0) {
    case 0:
      return { kind: 'optional', value: null };
    case 1:
      return { kind: 'optional', value: proto.tensor_value ? { kind: 'tensor', tensor: importTensor(proto.tensor_value as OnnxTypes.TensorProto, context) } : null };
    case 2:
      return {
        kind: 'optional',
        value: proto.sparse_tensor_value ? { kind: 'sparse-tensor', tensor: importSparseTensor(proto.sparse_tensor_value as OnnxTypes.SparseTensorProto, context) } : null,
      };
    case 3:
      return { kind: 'optional', value: proto.sequence_value ? sequenceValue(proto.sequence_value, options, depth + 1) : null };
    case 4:
      return { kind: 'optional', value: proto.map_value ? mapValue(proto.map_value, options, depth + 1) : null };
    case 5:
      return { kind: 'optional', value: proto.optional_value ? optionalValue(proto.optional_value, options, depth + 1) : null };
    default:
      throw onnxError({ reason: 'OptionalProto has an unknown elem_type', actual: String(proto.elem_type) });
  }
}

/** Decodes a serialized SequenceProto. */
export function decodeSequenceProto(bytes: Uint8Array, options: DecodeDataOptions = {}): OnnxDataValue {
  return decodeWith('SequenceProto', options, () => sequenceValue(decodeStrict(onnx.SequenceProto, bytes, DEFAULT_READ_LIMITS.maxNestingDepth), options, 0));
}

/** Decodes a serialized OptionalProto. */
export function decodeOptionalProto(bytes: Uint8Array, options: DecodeDataOptions = {}): OnnxDataValue {
  return decodeWith('OptionalProto', options, () => optionalValue(decodeStrict(onnx.OptionalProto, bytes, DEFAULT_READ_LIMITS.maxNestingDepth), options, 0));
}

/** Decodes a serialized MapProto. */
export function decodeMapProto(bytes: Uint8Array, options: DecodeDataOptions = {}): OnnxDataValue {
  return decodeWith('MapProto', options, () => mapValue(decodeStrict(onnx.MapProto, bytes, DEFAULT_READ_LIMITS.maxNestingDepth), options, 0));
}

/**
 * Decodes a data file whose message kind follows from the value's type (as ONNX's test runner does):
 * sequences are SequenceProto, optionals OptionalProto, maps MapProto, everything else TensorProto.
 */
export function decodeOnnxDataValue(bytes: Uint8Array, type: Type, options: DecodeDataOptions = {}): OnnxDataValue {
  switch (type.kind) {
    case 'sequence':
      return decodeSequenceProto(bytes, options);
    case 'optional':
      return decodeOptionalProto(bytes, options);
    case 'map':
      return decodeMapProto(bytes, options);
    case 'sparse-tensor':
      return decodeWith('SparseTensorProto', options, () => ({
        kind: 'sparse-tensor',
        tensor: importSparseTensor(decodeStrict(onnx.SparseTensorProto, bytes, DEFAULT_READ_LIMITS.maxNestingDepth), { baseDir: options.baseDir, location: {} }),
      }));
    default:
      return { kind: 'tensor', tensor: decodeTensorProto(bytes, options) };
  }
}

