import {
  byteLengthOf,
  dtypeFromOnnxCode,
  dtypeInfo,
  elementCount,
  MemoryStorage,
  Tensor,
  type DType,
  type TensorStorage,
  type Location,
  type SparseTensor,
} from '@modelpass/ir';
import { onnxError } from '../errors.js';
import { toSafeNumber, type Int64Like } from '../int64.js';
import { has, type OnnxTypes } from '../proto.js';
import { externalStorage, parseExternalData } from './external-data.js';
import { DEFAULT_READ_LIMITS, limitExceeded } from './read-limits.js';
import { hexPreview, strictUtf8 } from './strict-decode.js';
import type { SourceFiles } from './source-file.js';

/**
 * Where a tensor or attribute being read is, for errors: a location, or a function giving it — the
 * reader passes functions, since building a node's location for every node cost ~18% of a read and
 * only an error needs one.
 */
export type LocationSource = Location | (() => Location);

/** The location a `LocationSource` stands for (computed now, when it is a function). */
export function locate(source: LocationSource): Location {
  return typeof source === 'function' ? source() : source;
}

export interface TensorImportContext {
  /** Folder that external data paths are relative to. */
  readonly baseDir?: string;
  readonly location: LocationSource;
  /**
   * raw_data kept in the file by the lazy reader: the storage standing for the proto's raw_data
   * field (which the proto then lacks), or undefined.
   */
  readonly lazyRawData?: (proto: OnnxTypes.TensorProto) => TensorStorage | undefined;
  /** The files this import reads external data from (shared, so each file is opened once). */
  readonly sources?: SourceFiles;
  /** Largest tensor accepted (bytes); default `DEFAULT_READ_LIMITS.maxTensorBytes`. */
  readonly maxTensorBytes?: number;
}

/**
 * ONNX `bytes` fields the IR keeps as text (string tensor elements, string attributes) must be
 * UTF-8: the IR holds them as JavaScript strings, and replacing undecodable bytes would change the
 * model's data without a word, so they are refused with the element named.
 */
export function decodeUtf8(bytes: Uint8Array, what: string, location: LocationSource): string {
  try {
    return strictUtf8(bytes, what);
  } catch (cause) {
    throw onnxError({
      reason: `${what} is not valid UTF-8 (bytes ${hexPreview(bytes)})`,
      location: locate(location),
      expected: 'UTF-8 text (modelpass keeps ONNX strings as text)',
      hint: 'modelpass refuses instead of replacing the bytes; re-encode the strings as UTF-8, or keep such tensors out of the converted model',
      cause,
    });
  }
}

export function dtypeOfCode(code: number | null | undefined, what: string, location: LocationSource): DType {
  const dtype = dtypeFromOnnxCode(code ?? 0);
  if (!dtype) {
    throw onnxError({
      reason: `${what} has an unknown or undefined data type`,
      location: locate(location),
      expected: 'a TensorProto.DataType code from 1 to 26',
      actual: String(code ?? 0),
    });
  }
  return dtype;
}

export function dimsOf(dims: readonly Int64Like[], what: string, location: LocationSource): number[] {
  return dims.map((dim) => {
    let value: number;
    try {
      value = toSafeNumber(dim, `dimension of ${what}`);
    } catch {
      value = toSafeNumber(dim, `dimension of ${what}`, locate(location)); // throws again, now located
    }
    if (value < 0) {
      throw onnxError({ reason: `${what} has a negative dimension`, location: locate(location), expected: 'dims >= 0', actual: String(value) });
    }
    return value;
  });
}

/** Converts a TensorProto (any storage form) to a Tensor. Bytes in the proto are viewed, not copied. */
export function importTensor(proto: OnnxTypes.TensorProto, context: TensorImportContext): Tensor {
  const name = proto.name || '<unnamed>';
  const what = `tensor '${name}'`;
  const where = context.location;
  const dtype = dtypeOfCode(proto.data_type, what, where);
  const shape = dimsOf(proto.dims ?? [], what, where);
  const count = elementCount(shape);
  if (!Number.isSafeInteger(count)) throw onnxError({ reason: `${what} has too many elements`, location: locate(where) });
  const lazyRaw = context.lazyRawData?.(proto);

  if (dtype === 'string') {
    if (proto.data_location === 1 || lazyRaw || has(proto, 'raw_data')) {
      throw onnxError({ reason: `string ${what} must keep its elements in string_data`, location: locate(where) });
    }
    const strings = proto.string_data ?? [];
    if (strings.length !== count) {
      throw onnxError({ reason: `${what} has the wrong number of strings`, location: locate(where), expected: String(count), actual: String(strings.length) });
    }
    return Tensor.fromStrings(shape, strings.map((bytes, i) => decodeUtf8(bytes, `string element ${i} of ${what}`, where)));
  }

  const byteLength = byteLengthOf(dtype, count);
  const maxTensorBytes = context.maxTensorBytes ?? DEFAULT_READ_LIMITS.maxTensorBytes;
  if (byteLength > maxTensorBytes) {
    throw limitExceeded('maxTensorBytes', `${what} (${dtype}[${shape.join(',')}], ${byteLength} bytes)`, byteLength, maxTensorBytes, locate(where));
  }
  if (proto.data_location === 1) {
    const ref = parseExternalData(proto.external_data ?? [], name, locate(where));
    return Tensor.fromStorage(dtype, shape, externalStorage(context.baseDir, ref, byteLength, name, locate(where), context.sources));
  }
  if (lazyRaw || has(proto, 'raw_data')) {
    const storage = lazyRaw ?? new MemoryStorage(proto.raw_data);
    if (storage.byteLength !== byteLength) {
      throw onnxError({
        reason: `raw_data of ${what} has the wrong size for ${dtype}[${shape.join(',')}]`,
        location: locate(where),
        expected: `${byteLength} bytes`,
        actual: `${storage.byteLength} bytes`,
      });
    }
    return Tensor.fromStorage(dtype, shape, storage);
  }
  return Tensor.fromBytes(dtype, shape, typedFieldBytes(proto, dtype, count, byteLength, what, where));
}

/** Raw little-endian bytes from the typed repeated fields (float_data, int32_data, ...). */
function typedFieldBytes(
  proto: OnnxTypes.TensorProto,
  dtype: DType,
  count: number,
  byteLength: number,
  what: string,
  where: LocationSource,
): Uint8Array {
  // Allocated only once the field is known to hold the values the dims promise (dims alone cannot make us allocate).
  let bytes = new Uint8Array(0);
  let view = new DataView(bytes.buffer);
  const check = (field: string, actual: number, expected: number): void => {
    if (actual !== expected) {
      throw onnxError({
        reason: `${field} of ${what} has the wrong number of values for ${dtype}`,
        location: locate(where),
        expected: String(expected),
        actual: String(actual),
      });
    }
    bytes = new Uint8Array(byteLength);
    view = new DataView(bytes.buffer);
  };
  const bits = dtypeInfo(dtype).bits;
  switch (dtype) {
    case 'float32':
    case 'complex64': {
      const values = proto.float_data ?? [];
      check('float_data', values.length, byteLength / 4);
      values.forEach((v, i) => view.setFloat32(i * 4, v, true));
      return bytes;
    }
    case 'float64':
    case 'complex128': {
      const values = proto.double_data ?? [];
      check('double_data', values.length, byteLength / 8);
      values.forEach((v, i) => view.setFloat64(i * 8, v, true));
      return bytes;
    }
    case 'int64':
    case 'uint64':
    case 'uint32': {
      const values = (dtype === 'int64' ? proto.int64_data : proto.uint64_data) ?? [];
      check(dtype === 'int64' ? 'int64_data' : 'uint64_data', values.length, count);
      values.forEach((v, i) => {
        const low = typeof v === 'number' ? v >>> 0 : v.low >>> 0;
        const high = typeof v === 'number' ? Math.floor(v / 2 ** 32) >>> 0 : v.high >>> 0;
        if (dtype === 'uint32') view.setUint32(i * 4, low, true);
        else {
          view.setUint32(i * 8, low, true);
          view.setUint32(i * 8 + 4, high, true);
        }
      });
      return bytes;
    }
    case 'string':
      throw onnxError({ reason: `${what}: strings are not typed-field data`, location: locate(where) });
    default: {
      if (count === 0) return new Uint8Array(byteLength);
      // int32_data: one element per entry for 8+ bit types, one packed byte per entry for 4- and 2-bit types.
      const values = proto.int32_data ?? [];
      if (values.length === 0) {
        throw onnxError({ reason: `${what} has no data`, location: locate(where), hint: 'set raw_data, a typed data field, or external data' });
      }
      if (bits < 8) {
        check('int32_data', values.length, byteLength);
        values.forEach((v, i) => (bytes[i] = v & 0xff));
      } else if (bits === 8) {
        check('int32_data', values.length, count);
        values.forEach((v, i) => (bytes[i] = v & 0xff));
      } else if (bits === 16) {
        check('int32_data', values.length, count);
        values.forEach((v, i) => view.setUint16(i * 2, v & 0xffff, true));
      } else if (bits === 32) {
        check('int32_data', values.length, count);
        values.forEach((v, i) => view.setInt32(i * 4, v | 0, true));
      } else {
        throw onnxError({ reason: `${what}: ${dtype} cannot be stored in int32_data`, location: locate(where) });
      }
      return bytes;
    }
  }
}

export function importSparseTensor(proto: OnnxTypes.SparseTensorProto, context: TensorImportContext): SparseTensor {
  if (!proto.values || !proto.indices) {
    throw onnxError({ reason: 'sparse tensor lacks values or indices', location: locate(context.location) });
  }
  const values = importTensor(proto.values as OnnxTypes.TensorProto, context);
  const indices = importTensor(proto.indices as OnnxTypes.TensorProto, context);
  return { values, indices, dims: dimsOf(proto.dims ?? [], 'sparse tensor', context.location) };
}
