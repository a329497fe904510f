import type { DType } from './dtype.js';
import type { ElementValues, NativeArrayConstructor } from './element-codec.js';

/**
 * Small tensors (shape vectors, axes, indices, slice bounds: a few int32/int64 elements; shape inference and lowering
 * make and read hundreds a conversion) written and read through the bytes of a heap Uint8Array, never its `.buffer`.
 * V8 keeps a typed array of up to 64 bytes inside the JS heap; asking for its buffer (a fresh typed array's `.buffer`,
 * a view of another element width, a DataView) moves it out to a new ArrayBuffer, which costs several times the rest
 * of encoding or reading a shape-sized tensor. Larger tensors live outside the heap anyway and keep the block paths.
 */
export const SMALL_ELEMENT_BYTES = 64;

/** One buffer outside the heap that small encodings are converted in (element assignment), then copied out of. */
const scratch = new ArrayBuffer(SMALL_ELEMENT_BYTES);
const scratchBytes = new Uint8Array(scratch);
const scratchWords = new Uint32Array(scratch);
type NumberTypedArray = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;
const scratchViews = new Map<NativeArrayConstructor, NumberTypedArray>();

function scratchOf(Native: NativeArrayConstructor): NumberTypedArray {
  let view = scratchViews.get(Native);
  if (!view) scratchViews.set(Native, (view = new (Native as Float64ArrayConstructor)(scratch)));
  return view;
}

/**
 * `values` encoded as `Native`'s memory in a fresh heap Uint8Array, when they are at most `SMALL_ELEMENT_BYTES` of
 * numbers (safe integers for the 64-bit types); undefined otherwise (bigints, booleans, larger arrays), for the
 * general path. Each number is converted exactly as the general path converts it: by assignment into a typed array
 * of the dtype (a safe integer into a 64-bit type as its two 32-bit words), here the scratch, whose bytes are copied.
 */
export function encodeSmallNumbers(Native: NativeArrayConstructor, values: ElementValues): Uint8Array | undefined {
  const count = values.length;
  const byteLength = count * Native.BYTES_PER_ELEMENT;
  if (byteLength > SMALL_ELEMENT_BYTES) return undefined;
  if (Native === BigInt64Array || Native === BigUint64Array) {
    for (let i = 0; i < count; i++) {
      const value = values[i];
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return undefined;
      scratchWords[2 * i] = value >>> 0;
      scratchWords[2 * i + 1] = Math.floor(value / 4294967296) >>> 0;
    }
  } else {
    const target = scratchOf(Native);
    for (let i = 0; i < count; i++) {
      const value = values[i];
      if (typeof value !== 'number') return undefined;
      target[i] = value;
    }
  }
  const bytes = new Uint8Array(byteLength);
  for (let i = 0; i < byteLength; i++) bytes[i] = scratchBytes[i]!;
  return bytes;
}

/** Bytes per element of the integer dtypes `readSmallIntegers` reads. */
function integerWidth(dtype: DType): number {
  switch (dtype) {
    case 'int8':
    case 'uint8':
      return 1;
    case 'int16':
    case 'uint16':
      return 2;
    case 'int32':
    case 'uint32':
      return 4;
    case 'int64':
    case 'uint64':
      return 8;
    default:
      return 0;
  }
}

const TWO_TO_32 = 4294967296;

/** The little-endian 32-bit word at `offset`, as a signed int32. */
function wordAt(bytes: Uint8Array, offset: number): number {
  return bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24);
}

/** The little-endian integer of `dtype` (one `integerWidth` knows) at byte `at`, as a number. */
function integerAt(dtype: DType, bytes: Uint8Array, at: number): number {
  switch (dtype) {
    case 'int8':
      return (bytes[at]! << 24) >> 24;
    case 'uint8':
      return bytes[at]!;
    case 'int16':
      return ((bytes[at]! | (bytes[at + 1]! << 8)) << 16) >> 16;
    case 'uint16':
      return bytes[at]! | (bytes[at + 1]! << 8);
    case 'int32':
      return wordAt(bytes, at);
    case 'uint32':
      return wordAt(bytes, at) >>> 0;
    case 'int64':
      return wordAt(bytes, at + 4) * TWO_TO_32 + (wordAt(bytes, at) >>> 0);
    default:
      return (wordAt(bytes, at + 4) >>> 0) * TWO_TO_32 + (wordAt(bytes, at) >>> 0);
  }
}

/** Whether `count` elements of `dtype` are integers `readSmallIntegers` reads. */
export function isSmallIntegerRead(dtype: DType, count: number): boolean {
  const width = integerWidth(dtype);
  return width !== 0 && count * width <= SMALL_ELEMENT_BYTES;
}

/**
 * `count` little-endian integers of `dtype` as numbers, read byte by byte, when they are at most `SMALL_ELEMENT_BYTES`
 * of an integer dtype; undefined otherwise. Equal to `Number` of each decoded element (64-bit ones as
 * `high * 2^32 + low`, which rounds once as `Number(bigint)` does).
 */
export function readSmallIntegers(dtype: DType, bytes: Uint8Array, count: number): number[] | undefined {
  const width = integerWidth(dtype);
  if (width === 0 || count * width > SMALL_ELEMENT_BYTES || bytes.byteLength < count * width) return undefined;
  const numbers = new Array<number>(count);
  for (let i = 0; i < count; i++) numbers[i] = integerAt(dtype, bytes, i * width);
  return numbers;
}

/**
 * `count` elements of an 8-, 16- or 32-bit integer dtype decoded into a fresh `Native` (a heap typed array: no buffer
 * is made for it or for `bytes`), when they are at most `SMALL_ELEMENT_BYTES`; undefined otherwise.
 */
export function decodeSmallIntegers(dtype: DType, Native: NativeArrayConstructor, bytes: Uint8Array, count: number): Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | undefined {
  const width = integerWidth(dtype);
  if (width === 0 || width === 8 || count * width > SMALL_ELEMENT_BYTES) return undefined;
  const out = new (Native as Int32ArrayConstructor)(count);
  for (let i = 0; i < count; i++) out[i] = integerAt(dtype, bytes, i * width);
  return out;
}
