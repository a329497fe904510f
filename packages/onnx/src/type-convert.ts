import { onnxCodeOf, UNKNOWN_TYPE, type Dim, type Location, type Type } from '@modelpass/ir';
import { onnxError } from './errors.js';
import { toSafeNumber } from './int64.js';
import { dtypeOfCode } from './import/tensor-import.js';
import { has, type OnnxTypes } from './proto.js';

const MAX_TYPE_DEPTH = 64;

/**
 * A declared shape. A negative dim_value (some exporters write -1 for "any size") is read as an unknown dim, as
 * ONNX Runtime reads it: carried as a number, -3 reached a .tflite our own reader then refused (QA s16).
 */
function shapeOf(message: { shape?: OnnxTypes.TensorShapeProto.$Properties | null }, location: Location): Dim[] | null {
  if (!has(message, 'shape') || !message.shape) return null;
  return (message.shape.dim ?? []).map((dim): Dim => {
    if (has(dim, 'dim_value')) {
      const value = toSafeNumber(dim.dim_value, 'dimension', location);
      return value < 0 ? null : value;
    }
    if (has(dim, 'dim_param')) return dim.dim_param ?? null;
    return null;
  });
}

/**
 * A tensor type whose elem_type is missing (UNDEFINED), which onnx.proto forbids ("MUST be present").
 * With no shape it carries nothing and reads as unknown; with a shape, the IR has no way to keep
 * the shape (or its dims' denotations) without an element type, so it is refused rather than
 * dropped silently.
 */
function untypedTensor(message: { shape?: OnnxTypes.TensorShapeProto.$Properties | null }, what: string, location: Location, subject?: string): Type {
  if (!message.shape) return UNKNOWN_TYPE;
  throw onnxError({
    reason: `${subject ? `${subject}: ` : ''}${what} type has a shape but no element type (elem_type is missing or UNDEFINED, which ONNX forbids)`,
    location,
    expected: 'an elem_type from TensorProto.DataType',
    hint: 'set the element type in the model (onnx.helper.make_tensor_type_proto), or remove the shape',
  });
}

/** ONNX TypeProto → IR type. A type with no element type (or an opaque type) is unknown. */
export function importType(proto: OnnxTypes.TypeProto.$Properties | null | undefined, location: Location, depth = 0, subject?: string): Type {
  if (!proto) return UNKNOWN_TYPE;
  if (depth > MAX_TYPE_DEPTH) throw onnxError({ reason: 'type nests too deeply', location });
  if (proto.tensor_type) {
    const code = proto.tensor_type.elem_type ?? 0;
    if (code === 0) return untypedTensor(proto.tensor_type, 'tensor', location, subject);
    return { kind: 'tensor', dtype: dtypeOfCode(code, 'tensor type', location), shape: shapeOf(proto.tensor_type, location) };
  }
  if (proto.sparse_tensor_type) {
    const code = proto.sparse_tensor_type.elem_type ?? 0;
    if (code === 0) return untypedTensor(proto.sparse_tensor_type, 'sparse tensor', location, subject);
    return { kind: 'sparse-tensor', dtype: dtypeOfCode(code, 'sparse tensor type', location), shape: shapeOf(proto.sparse_tensor_type, location) };
  }
  if (proto.sequence_type) return { kind: 'sequence', element: importType(proto.sequence_type.elem_type, location, depth + 1) };
  if (proto.optional_type) return { kind: 'optional', element: importType(proto.optional_type.elem_type, location, depth + 1) };
  if (proto.map_type) {
    return {
      kind: 'map',
      key: dtypeOfCode(proto.map_type.key_type, 'map key type', location),
      value: importType(proto.map_type.value_type, location, depth + 1),
    };
  }
  return UNKNOWN_TYPE;
}

function shapeProto(shape: readonly Dim[] | null): OnnxTypes.TensorShapeProto.$Properties | undefined {
  if (shape === null) return undefined;
  return {
    dim: shape.map((dim) => (dim === null ? {} : typeof dim === 'number' ? { dim_value: dim } : { dim_param: dim })),
  };
}

/** IR type → ONNX TypeProto; undefined for an unknown type (the ValueInfoProto then has no type). */
export function exportType(type: Type): OnnxTypes.TypeProto.$Properties | undefined {
  switch (type.kind) {
    case 'unknown':
      return undefined;
    case 'tensor': {
      const shape = shapeProto(type.shape);
      return { tensor_type: shape ? { elem_type: onnxCodeOf(type.dtype), shape } : { elem_type: onnxCodeOf(type.dtype) } };
    }
    case 'sparse-tensor': {
      const shape = shapeProto(type.shape);
      return {
        sparse_tensor_type: shape ? { elem_type: onnxCodeOf(type.dtype), shape } : { elem_type: onnxCodeOf(type.dtype) },
      };
    }
    case 'sequence': {
      const element = exportType(type.element);
      return { sequence_type: element ? { elem_type: element } : {} };
    }
    case 'optional': {
      const element = exportType(type.element);
      return { optional_type: element ? { elem_type: element } : {} };
    }
    case 'map': {
      const value = exportType(type.value);
      return { map_type: value ? { key_type: onnxCodeOf(type.key), value_type: value } : { key_type: onnxCodeOf(type.key) } };
    }
  }
}
