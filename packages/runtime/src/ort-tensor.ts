/**
 * Exact conversion between our `Tensor` and ONNX Runtime's `Tensor`. Bytes are copied as they are
 * (both sides are little-endian, ONNX `raw_data` layout): int64 travels as BigInt64Array, float16 as
 * the Uint16Array of its bits, bool as one byte per element, 4-bit integers packed two per byte.
 */
import { endianness } from 'node:os';
import { Tensor, byteLengthOf, elementCount, type DType } from '@modelpass/ir';
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import { runtimeError } from './errors.js';

type OrtTensorConstructor = typeof import('onnxruntime-node').Tensor;

type TypedArrayConstructor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView & { length: number };

/** ORT's element type and the typed array it carries, per dtype ORT's Node binding supports. */
const ortElementTypes = new Map<DType, { type: OrtTensor.Type; array: TypedArrayConstructor; elementBytes: number }>([
  ['float32', { type: 'float32', array: Float32Array, elementBytes: 4 }],
  ['float64', { type: 'float64', array: Float64Array, elementBytes: 8 }],
  ['float16', { type: 'float16', array: Uint16Array, elementBytes: 2 }],
  ['int8', { type: 'int8', array: Int8Array, elementBytes: 1 }],
  ['int16', { type: 'int16', array: Int16Array, elementBytes: 2 }],
  ['int32', { type: 'int32', array: Int32Array, elementBytes: 4 }],
  ['int64', { type: 'int64', array: BigInt64Array, elementBytes: 8 }],
  ['uint8', { type: 'uint8', array: Uint8Array, elementBytes: 1 }],
  ['uint16', { type: 'uint16', array: Uint16Array, elementBytes: 2 }],
  ['uint32', { type: 'uint32', array: Uint32Array, elementBytes: 4 }],
  ['uint64', { type: 'uint64', array: BigUint64Array, elementBytes: 8 }],
  ['bool', { type: 'bool', array: Uint8Array, elementBytes: 1 }],
  ['int4', { type: 'int4', array: Uint8Array, elementBytes: 1 }],
  ['uint4', { type: 'uint4', array: Uint8Array, elementBytes: 1 }],
]);

const dtypeOfOrtType = new Map<string, DType>([...ortElementTypes].map(([dtype, info]) => [info.type, dtype]));
dtypeOfOrtType.set('string', 'string');

/** The dtypes ONNX Runtime's Node binding can take and return. */
export const ORT_DTYPES: readonly DType[] = [...ortElementTypes.keys(), 'string'];

/** Our dtype for an ORT element type name, or undefined when we have none. */
export function dtypeFromOrtType(type: string): DType | undefined {
  return dtypeOfOrtType.get(type);
}

function assertLittleEndian(): void {
  if (endianness() !== 'LE') {
    throw runtimeError({ reason: 'the ONNX Runtime adapter needs a little-endian host', actual: endianness() });
  }
}

/** Converts our tensor to an ORT tensor (`name` is used in diagnostics). */
export function toOrtTensor(OrtTensorClass: OrtTensorConstructor, tensor: Tensor, name: string): OrtTensor {
  const dims = [...tensor.shape];
  if (tensor.dtype === 'string') return new OrtTensorClass('string', [...(tensor.strings ?? [])], dims);
  const info = ortElementTypes.get(tensor.dtype);
  if (!info) {
    throw runtimeError({
      reason: `input '${name}' has dtype ${tensor.dtype}, which ONNX Runtime for Node cannot take`,
      expected: `one of ${ORT_DTYPES.join(', ')}`,
      actual: tensor.dtype,
    });
  }
  assertLittleEndian();
  // A copy gives an aligned buffer that ORT may keep while it runs.
  const bytes = new Uint8Array(tensor.bytes()); // a copy at offset 0 (Buffer#slice would be a view)
  const length = bytes.byteLength / info.elementBytes;
  const data = new info.array(bytes.buffer, 0, length);
  return new OrtTensorClass(info.type as 'float32', data as unknown as Float32Array, dims);
}

/** Converts an ORT tensor to ours; the bytes are copied, so the result outlives the session. */
export function fromOrtTensor(value: OrtTensor, name: string): Tensor {
  return convertOrtTensor(value, name, true);
}

/**
 * Converts an output that `InferenceSession.run` has just returned, taking over its bytes without a
 * copy. onnxruntime-node copies every output into a fresh ArrayBuffer of its own (nothing else holds
 * it: not the session, not a pre-allocated fetch), so a second copy would only double the garbage of
 * each run, and with it the peak memory of loops that run many batches (calibration). Not for tensors
 * the caller keeps using (those go through `fromOrtTensor`).
 */
export function adoptOrtOutput(value: OrtTensor, name: string): Tensor {
  return convertOrtTensor(value, name, false);
}

function convertOrtTensor(value: OrtTensor, name: string, copy: boolean): Tensor {
  const dims = value.dims.map((d) => Number(d));
  const dtype = dtypeFromOrtType(value.type);
  if (!dtype) {
    throw runtimeError({ reason: `ONNX Runtime returned output '${name}' with element type '${value.type}', which modelpass cannot hold` });
  }
  if (dtype === 'string') return Tensor.fromStrings(dims, value.data as string[]);
  assertLittleEndian();
  const data = value.data as ArrayBufferView;
  const expected = byteLengthOf(dtype, elementCount(dims));
  if (dtype === 'float16' && !(data instanceof Uint16Array)) {
    // A Float16Array (newer Node): re-encode the values as bits.
    return Tensor.fromValues(dtype, dims, Array.from(data as unknown as ArrayLike<number>));
  }
  if (data.byteLength !== expected) {
    throw runtimeError({
      reason: `ONNX Runtime returned output '${name}' with ${data.byteLength} bytes`,
      expected: `${expected} bytes for ${dtype}[${dims.join(',')}]`,
      actual: `${data.byteLength} bytes`,
    });
  }
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  // Only a plain ArrayBuffer is taken over; anything else (a SharedArrayBuffer) is copied.
  const bytes = copy || !(data.buffer instanceof ArrayBuffer) ? new Uint8Array(view) : view;
  return Tensor.fromBytes(dtype, dims, bytes);
}
