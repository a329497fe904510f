import { Tensor, nativeArrayType, type DType, type ElementArray, type ElementValues } from '@modelpass/ir';
import { sizeOf } from './shape.js';

/** A writable element buffer for one dtype (see `allocateElements`): the ir's decoded element arrays. */
export type ElementBuffer = ElementArray;

/** int64 and uint64 elements are BigInts (exact); every other numeric dtype reads as numbers. */
export function isBigIntDType(dtype: DType): dtype is 'int64' | 'uint64' {
  return dtype === 'int64' || dtype === 'uint64';
}

/**
 * A buffer that holds `count` elements of `dtype` while a kernel computes them. Storing into it
 * applies the dtype's own wrap-around (ints) or rounding (float32). Narrower floats (float16,
 * bfloat16, float8, float4) get a Float64Array and are rounded once, when the tensor is encoded.
 */
export function allocateElements(dtype: DType, count: number): ElementBuffer {
  switch (dtype) {
    case 'float32':
      return new Float32Array(count);
    case 'int8':
    case 'int4':
    case 'int2':
      return new Int8Array(count);
    case 'uint8':
    case 'uint4':
    case 'uint2':
    case 'bool':
      return new Uint8Array(count);
    case 'int16':
      return new Int16Array(count);
    case 'uint16':
      return new Uint16Array(count);
    case 'int32':
      return new Int32Array(count);
    case 'uint32':
      return new Uint32Array(count);
    case 'int64':
      return new BigInt64Array(count);
    case 'uint64':
      return new BigUint64Array(count);
    case 'string':
      return new Array<string>(count).fill('');
    default:
      return new Float64Array(count);
  }
}

/**
 * The decoded elements of a tensor: `tensor.data()`, a fresh array the caller may write (the ir
 * already copies dtypes stored in the host's layout in one block instead of element by element).
 */
export function readElements(tensor: Tensor): ElementArray {
  return tensor.data();
}

/**
 * The elements of a tensor for reading only: a typed-array view of the stored bytes when the dtype
 * is stored as a native typed array and the bytes are aligned for it (no copy), else
 * `readElements`. The caller must not write the result (it may be the tensor's own storage).
 */
export function viewElements(tensor: Tensor): ElementArray {
  const native = nativeArrayType(tensor.dtype);
  if (!native) return readElements(tensor);
  const bytes = tensor.bytes();
  const count = tensor.size;
  if (bytes.byteOffset % native.BYTES_PER_ELEMENT !== 0 || bytes.byteLength < count * native.BYTES_PER_ELEMENT) return readElements(tensor);
  return new native(bytes.buffer as ArrayBuffer, bytes.byteOffset, count);
}

/** `readNumbers` for reading only (see `viewElements`): the caller must not write the result. */
export function viewNumbers(tensor: Tensor): ArrayLike<number> {
  if (tensor.dtype === 'int64' || tensor.dtype === 'uint64') return readNumbers(tensor);
  if (tensor.dtype === 'string') throw new TypeError('string tensors have no numeric values');
  return viewElements(tensor) as ArrayLike<number>;
}

/**
 * A tensor whose bytes are `elements` itself when it is the dtype's native typed array (no
 * encoding, no copy: the caller hands the array over and must not write it afterwards).
 */
function nativeTensor(dtype: DType, shape: readonly number[], elements: unknown): Tensor | undefined {
  const native = nativeArrayType(dtype);
  if (!native || !(elements instanceof native)) return undefined;
  const array = elements as Float32Array;
  if (array.length !== sizeOf(shape)) return undefined; // the generic path reports the mismatch
  return Tensor.fromBytes(dtype, shape, new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
}

/** bool elements stored 0/1 (a Uint8Array holding only 0 and 1 is used as it is). */
function boolTensor(shape: readonly number[], elements: ArrayLike<number> | ArrayLike<boolean>): Tensor {
  if (elements instanceof Uint8Array && elements.length === sizeOf(shape)) {
    let clean = true;
    for (let i = 0; i < elements.length; i++) {
      if (elements[i]! > 1) {
        clean = false;
        break;
      }
    }
    if (clean) return Tensor.fromBytes('bool', shape, new Uint8Array(elements.buffer, elements.byteOffset, elements.byteLength));
  }
  return Tensor.fromValues('bool', shape, elements as ElementValues);
}

/**
 * A tensor from computed elements (strings, numbers, bigints or booleans). A buffer from
 * `allocateElements` of the dtype's native array type becomes the tensor's bytes without a copy:
 * the kernel must not write it afterwards.
 */
export function tensorFromElements(dtype: DType, shape: readonly number[], elements: ElementBuffer | ArrayLike<number> | ArrayLike<bigint> | ArrayLike<boolean> | readonly string[]): Tensor {
  if (dtype === 'string') return Tensor.fromStrings(shape, Array.from(elements as ArrayLike<string>));
  if (dtype === 'bool') return boolTensor(shape, elements as ArrayLike<number>);
  return nativeTensor(dtype, shape, elements) ?? Tensor.fromValues(dtype, shape, elements as ElementValues);
}

/** Elements as numbers (int64/uint64 converted with `Number`, exact below 2^53). */
export function readNumbers(tensor: Tensor): ArrayLike<number> {
  if (tensor.dtype === 'string') throw new TypeError('string tensors have no numeric values');
  // int64/uint64: read as 32-bit word pairs by the ir (the same numbers, without a BigInt per element).
  if (tensor.dtype === 'int64' || tensor.dtype === 'uint64') return new Float64Array(tensor.toNumbers());
  const data = readElements(tensor);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    // A counted loop: Float64Array.from with a mapping function costs several times more per element.
    const numbers = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) numbers[i] = Number(data[i]);
    return numbers;
  }
  return data as ArrayLike<number>;
}

/** Elements as BigInts (exact for every integer dtype; floats are truncated). */
export function readBigInts(tensor: Tensor): bigint[] {
  const data = readElements(tensor);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data);
  return Array.from(data as ArrayLike<number>, (v) => BigInt(Math.trunc(v)));
}

/** Small integer tensors (axes, shapes, starts) read before, by tensor: verify-each re-reads them after every pass. */
const smallIntsCache = new WeakMap<Tensor, readonly number[]>();
const SMALL_INTS = 64;

/** Integer elements as plain numbers (for axes, shapes, indices); a fresh array the caller may change. */
export function readInts(tensor: Tensor): number[] {
  const cached = smallIntsCache.get(tensor);
  if (cached) return cached.slice();
  const numbers = readNumbers(tensor);
  const ints = new Array<number>(numbers.length);
  for (let i = 0; i < numbers.length; i++) ints[i] = Math.trunc(numbers[i]!);
  if (ints.length <= SMALL_INTS) smallIntsCache.set(tensor, ints.slice());
  return ints;
}

export interface IntegerRange {
  readonly min: number;
  readonly max: number;
}

const integerRanges: Partial<Record<DType, IntegerRange>> = {
  int2: { min: -2, max: 1 },
  uint2: { min: 0, max: 3 },
  int4: { min: -8, max: 7 },
  uint4: { min: 0, max: 15 },
  int8: { min: -128, max: 127 },
  uint8: { min: 0, max: 255 },
  int16: { min: -32768, max: 32767 },
  uint16: { min: 0, max: 65535 },
  int32: { min: -2147483648, max: 2147483647 },
  uint32: { min: 0, max: 4294967295 },
  int64: { min: -(2 ** 63), max: 2 ** 63 - 1 },
  uint64: { min: 0, max: 2 ** 64 - 1 },
};

/** The representable range of an integer dtype (int64/uint64 as approximate numbers). */
export function integerRange(dtype: DType): IntegerRange | undefined {
  return integerRanges[dtype];
}

/** Largest finite value of a float dtype (float8 formats included). */
export function floatMax(dtype: DType): number {
  switch (dtype) {
    case 'float16':
      return 65504;
    case 'bfloat16':
      return 3.3895313892515355e38;
    case 'float32':
      return 3.4028234663852886e38;
    case 'float8e4m3fn':
      return 448;
    case 'float8e4m3fnuz':
      return 240;
    case 'float8e5m2':
    case 'float8e5m2fnuz':
      return 57344;
    case 'float4e2m1':
      return 6;
    default:
      return Number.MAX_VALUE;
  }
}

/** Rounds half to even (numpy's `round`, ONNX's Round and quantization rounding). */
export function roundHalfToEven(value: number): number {
  if (!Number.isFinite(value)) return value;
  const floor = Math.floor(value);
  const diff = value - floor;
  const rounded = diff > 0.5 ? floor + 1 : diff < 0.5 ? floor : floor % 2 === 0 ? floor : floor + 1;
  // Keep the sign of values that round to zero from below (-0.4 -> -0), as numpy does.
  return rounded === 0 && value < 0 ? -0 : rounded;
}
