/**
 * Encoding and decoding of tensor elements between raw little-endian bytes (ONNX `raw_data`
 * layout) and JavaScript arrays.
 */
import { byteLengthOf, type DType } from './dtype.js';
import { decodeSmallIntegers, encodeSmallNumbers } from './small-elements.js';

export type ElementArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | string[];

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Round-to-nearest-even conversion of a number to IEEE half-precision bits. */
export function numberToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function bfloat16BitsToNumber(bits: number): number {
  u32[0] = bits << 16;
  return f32[0]!;
}

export function numberToBfloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return ((x >>> 16) | 0x40) & 0xffff;
  const rounded = x + 0x7fff + ((x >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

interface MiniFloatFormat {
  exponentBits: number;
  mantissaBits: number;
  bias: number;
  /** 'ieee': top exponent is inf/nan; 'fn': only all-ones is NaN; 'fnuz': 0x80 is NaN, no -0, no inf. */
  special: 'ieee' | 'fn' | 'fnuz' | 'e2m1' | 'e8m0';
}

const miniFloats: Partial<Record<DType, MiniFloatFormat>> = {
  float8e4m3fn: { exponentBits: 4, mantissaBits: 3, bias: 7, special: 'fn' },
  float8e4m3fnuz: { exponentBits: 4, mantissaBits: 3, bias: 8, special: 'fnuz' },
  float8e5m2: { exponentBits: 5, mantissaBits: 2, bias: 15, special: 'ieee' },
  float8e5m2fnuz: { exponentBits: 5, mantissaBits: 2, bias: 16, special: 'fnuz' },
  float4e2m1: { exponentBits: 2, mantissaBits: 1, bias: 1, special: 'e2m1' },
  float8e8m0: { exponentBits: 8, mantissaBits: 0, bias: 127, special: 'e8m0' },
};

function decodeMiniFloat(format: MiniFloatFormat, bits: number): number {
  const total = 1 + format.exponentBits + format.mantissaBits;
  if (format.special === 'e8m0') return bits === 0xff ? NaN : 2 ** (bits - 127);
  const signBit = 1 << (total - 1);
  if (format.special === 'fnuz' && bits === signBit) return NaN;
  const sign = bits & signBit ? -1 : 1;
  const exponent = (bits >> format.mantissaBits) & ((1 << format.exponentBits) - 1);
  const mantissa = bits & ((1 << format.mantissaBits) - 1);
  const maxExponent = (1 << format.exponentBits) - 1;
  if (format.special === 'ieee' && exponent === maxExponent) return mantissa ? NaN : sign * Infinity;
  if (format.special === 'fn' && exponent === maxExponent && mantissa === (1 << format.mantissaBits) - 1) return NaN;
  const scale = 2 ** format.mantissaBits;
  if (exponent === 0) return sign * (mantissa / scale) * 2 ** (1 - format.bias);
  return sign * (1 + mantissa / scale) * 2 ** (exponent - format.bias);
}

const miniFloatTables = new Map<DType, Float64Array>();

function miniFloatTable(dtype: DType): Float64Array {
  let table = miniFloatTables.get(dtype);
  if (!table) {
    const format = miniFloats[dtype]!;
    const size = 1 << (1 + format.exponentBits + format.mantissaBits - (format.special === 'e8m0' ? 1 : 0));
    table = new Float64Array(size);
    for (let bits = 0; bits < size; bits++) table[bits] = decodeMiniFloat(format, bits);
    miniFloatTables.set(dtype, table);
  }
  return table;
}

/** Nearest representable value (ties to even code), saturating to the largest finite value. */
function encodeMiniFloat(dtype: DType, input: number): number {
  let value = input;
  const table = miniFloatTable(dtype);
  if (Number.isNaN(value)) {
    for (let bits = table.length - 1; bits >= 0; bits--) if (Number.isNaN(table[bits]!)) return bits;
    return 0;
  }
  if (!Number.isFinite(value)) {
    const exact = table.indexOf(value);
    if (exact >= 0) return exact;
    // No infinity in this format: saturate to the largest finite magnitude.
    let largest = 0;
    for (const candidate of table) if (Number.isFinite(candidate) && candidate > largest) largest = candidate;
    value = value > 0 ? largest : -largest;
  }
  let best = 0;
  let bestError = Infinity;
  for (let bits = 0; bits < table.length; bits++) {
    const candidate = table[bits]!;
    if (Number.isNaN(candidate)) continue;
    if (!Number.isFinite(candidate)) continue;
    const error = Math.abs(candidate - value);
    if (error < bestError || (error === bestError && (bits & 1) === 0 && (best & 1) === 1)) {
      best = bits;
      bestError = error;
    }
  }
  return best;
}

function subByteInfo(dtype: DType): { bits: number; signed: boolean } | undefined {
  switch (dtype) {
    case 'int4':
      return { bits: 4, signed: true };
    case 'uint4':
      return { bits: 4, signed: false };
    case 'int2':
      return { bits: 2, signed: true };
    case 'uint2':
      return { bits: 2, signed: false };
    default:
      return undefined;
  }
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export type NativeArrayConstructor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

/** Dtypes whose stored little-endian bytes are exactly a typed array's memory on a little-endian host. */
const nativeArrayTypes: Partial<Record<DType, NativeArrayConstructor>> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
};

/**
 * The typed array whose memory is exactly `dtype`'s stored bytes on this machine (little-endian
 * hosts only), or undefined. Such tensors can
 * be read and written with a block copy, or viewed in place.
 */
export function nativeArrayType(dtype: DType): NativeArrayConstructor | undefined {
  return LITTLE_ENDIAN_HOST ? nativeArrayTypes[dtype] : undefined;
}

/**
 * Decodes `count` elements. Half, brain and mini floats decode to Float32Array; 2/4-bit integers to
 * Int8Array/Uint8Array; bool to Uint8Array; int64/uint64 to BigInt arrays; complex to interleaved
 * real/imaginary float arrays. Strings are not stored as bytes; see `Tensor.strings`.
 */
export function decodeElements(dtype: DType, bytes: Uint8Array, count: number): ElementArray {
  const needed = byteLengthOf(dtype, count);
  if (bytes.byteLength < needed) {
    throw new RangeError(`${dtype} tensor of ${count} elements needs ${needed} bytes, got ${bytes.byteLength}`);
  }
  const Native = nativeArrayType(dtype);
  if (Native) {
    const small = decodeSmallIntegers(dtype, Native, bytes, count);
    if (small) return small;
    // The stored layout is the host's: one block copy instead of a DataView read per element. Aligned
    // bytes are copied by slicing a typed view of them (a small result stays in the JS heap: 2.7× faster
    // for shape-sized tensors than filling a new array through a byte view of its buffer, which moves
    // it out of the heap; ArrayBuffer#slice is slower still).
    if (bytes.byteOffset % Native.BYTES_PER_ELEMENT === 0) return new Native(bytes.buffer as ArrayBuffer, bytes.byteOffset, count).slice();
    const out = new Native(count);
    new Uint8Array(out.buffer).set(bytes.subarray(0, out.byteLength));
    return out;
  }
  const dv = view(bytes);
  switch (dtype) {
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, true);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, true);
      return out;
    }
    case 'complex64': {
      const out = new Float32Array(count * 2);
      for (let i = 0; i < count * 2; i++) out[i] = dv.getFloat32(i * 4, true);
      return out;
    }
    case 'complex128': {
      const out = new Float64Array(count * 2);
      for (let i = 0; i < count * 2; i++) out[i] = dv.getFloat64(i * 8, true);
      return out;
    }
    case 'int8': {
      // Copy: `bytes` may be a Node Buffer view into a shared pool.
      const out = new Int8Array(count);
      out.set(new Int8Array(bytes.buffer, bytes.byteOffset, count));
      return out;
    }
    case 'uint8':
    case 'bool':
      return Uint8Array.prototype.slice.call(bytes, 0, count);
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getInt16(i * 2, true);
      return out;
    }
    case 'uint16': {
      const out = new Uint16Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getUint16(i * 2, true);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getInt32(i * 4, true);
      return out;
    }
    case 'uint32': {
      const out = new Uint32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getUint32(i * 4, true);
      return out;
    }
    case 'int64': {
      const out = new BigInt64Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getBigInt64(i * 8, true);
      return out;
    }
    case 'uint64': {
      const out = new BigUint64Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getBigUint64(i * 8, true);
      return out;
    }
    case 'float16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = float16BitsToNumber(dv.getUint16(i * 2, true));
      return out;
    }
    case 'bfloat16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = bfloat16BitsToNumber(dv.getUint16(i * 2, true));
      return out;
    }
    case 'float8e4m3fn':
    case 'float8e4m3fnuz':
    case 'float8e5m2':
    case 'float8e5m2fnuz':
    case 'float8e8m0': {
      const table = miniFloatTable(dtype);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = table[bytes[i]!]!;
      return out;
    }
    case 'float4e2m1': {
      const table = miniFloatTable(dtype);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = table[(bytes[i >> 1]! >> ((i & 1) * 4)) & 0xf]!;
      return out;
    }
    case 'int4':
    case 'uint4':
    case 'int2':
    case 'uint2': {
      const { bits, signed } = subByteInfo(dtype)!;
      const perByte = 8 / bits;
      const mask = (1 << bits) - 1;
      const out = signed ? new Int8Array(count) : new Uint8Array(count);
      for (let i = 0; i < count; i++) {
        let v = (bytes[Math.floor(i / perByte)]! >> ((i % perByte) * bits)) & mask;
        if (signed && v & (1 << (bits - 1))) v -= 1 << bits;
        out[i] = v;
      }
      return out;
    }
    case 'string':
      throw new TypeError('string tensors are not stored as bytes');
  }
}

/** Element values accepted by `encodeElements`. */
export type ElementValues = ArrayLike<number> | ArrayLike<bigint> | ArrayLike<boolean>;

function asNumber(value: number | bigint | boolean): number {
  return typeof value === 'number' ? value : Number(value);
}

function asBigInt(value: number | bigint | boolean): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'boolean') return value ? 1n : 0n;
  return BigInt(Math.trunc(value));
}

/** Whether `values` is a typed array of numbers (not BigInt64Array/BigUint64Array). */
function isNumberTypedArray(values: ElementValues): values is ArrayLike<number> & ArrayBufferView {
  return ArrayBuffer.isView(values) && !(values instanceof BigInt64Array) && !(values instanceof BigUint64Array);
}

/**
 * Number dtypes stored as the host's typed array: encoded by element assignment into that array,
 * which converts exactly as DataView's setters do (the same rounding of floats, the same modular
 * integer conversion), without a DataView call per element.
 */
function encodeNativeNumbers(dtype: DType, values: ElementValues): Uint8Array | undefined {
  const Native = nativeArrayType(dtype);
  if (!Native) return undefined;
  const small = encodeSmallNumbers(Native, values);
  if (small) return small;
  if (Native === BigInt64Array || Native === BigUint64Array) {
    // Assigning a bigint wraps it as setBigInt64/setBigUint64 do; numbers are truncated first (asBigInt).
    const wide = new Native(values.length);
    // A safe integer number is written as its two 32-bit words (two's complement: the bits the BigInt would wrap
    // to, in either dtype) without making a BigInt; anything else (bigints, fractions, huge or non-finite numbers,
    // booleans) as before.
    const words = new Uint32Array(wide.buffer);
    for (let i = 0; i < values.length; i++) {
      const value = values[i] as number | bigint | boolean;
      if (typeof value === 'number' && Number.isSafeInteger(value)) {
        words[2 * i] = value >>> 0;
        words[2 * i + 1] = Math.floor(value / 4294967296) >>> 0;
      } else wide[i] = asBigInt(value);
    }
    return new Uint8Array(wide.buffer, 0, wide.byteLength);
  }
  const out = new (Native as Float64ArrayConstructor)(values.length);
  if (isNumberTypedArray(values)) out.set(values);
  else for (let i = 0; i < values.length; i++) out[i] = asNumber(values[i] as number | bigint | boolean);
  return new Uint8Array(out.buffer, 0, out.byteLength);
}

/** Encodes values as raw little-endian bytes for `dtype` (the inverse of `decodeElements`). */
export function encodeElements(dtype: DType, values: ElementValues): Uint8Array {
  const native = encodeNativeNumbers(dtype, values);
  if (native) return native;
  const count = dtype.startsWith('complex') ? values.length / 2 : values.length;
  const bytes = new Uint8Array(byteLengthOf(dtype, count));
  const dv = view(bytes);
  const n = values.length;
  const at = (i: number) => values[i] as number | bigint | boolean;
  switch (dtype) {
    case 'float32':
    case 'complex64':
      for (let i = 0; i < n; i++) dv.setFloat32(i * 4, asNumber(at(i)), true);
      break;
    case 'float64':
    case 'complex128':
      for (let i = 0; i < n; i++) dv.setFloat64(i * 8, asNumber(at(i)), true);
      break;
    case 'int8':
      for (let i = 0; i < n; i++) dv.setInt8(i, asNumber(at(i)));
      break;
    case 'uint8':
      for (let i = 0; i < n; i++) dv.setUint8(i, asNumber(at(i)));
      break;
    case 'bool':
      for (let i = 0; i < n; i++) dv.setUint8(i, asNumber(at(i)) ? 1 : 0);
      break;
    case 'int16':
      for (let i = 0; i < n; i++) dv.setInt16(i * 2, asNumber(at(i)), true);
      break;
    case 'uint16':
      for (let i = 0; i < n; i++) dv.setUint16(i * 2, asNumber(at(i)), true);
      break;
    case 'int32':
      for (let i = 0; i < n; i++) dv.setInt32(i * 4, asNumber(at(i)), true);
      break;
    case 'uint32':
      for (let i = 0; i < n; i++) dv.setUint32(i * 4, asNumber(at(i)), true);
      break;
    case 'int64':
      for (let i = 0; i < n; i++) dv.setBigInt64(i * 8, asBigInt(at(i)), true);
      break;
    case 'uint64':
      for (let i = 0; i < n; i++) dv.setBigUint64(i * 8, asBigInt(at(i)), true);
      break;
    case 'float16':
      for (let i = 0; i < n; i++) dv.setUint16(i * 2, numberToFloat16Bits(asNumber(at(i))), true);
      break;
    case 'bfloat16':
      for (let i = 0; i < n; i++) dv.setUint16(i * 2, numberToBfloat16Bits(asNumber(at(i))), true);
      break;
    case 'float8e4m3fn':
    case 'float8e4m3fnuz':
    case 'float8e5m2':
    case 'float8e5m2fnuz':
    case 'float8e8m0':
      for (let i = 0; i < n; i++) bytes[i] = encodeMiniFloat(dtype, asNumber(at(i)));
      break;
    case 'float4e2m1':
      for (let i = 0; i < n; i++) bytes[i >> 1]! |= encodeMiniFloat(dtype, asNumber(at(i))) << ((i & 1) * 4);
      break;
    case 'int4':
    case 'uint4':
    case 'int2':
    case 'uint2': {
      const { bits } = subByteInfo(dtype)!;
      const perByte = 8 / bits;
      const mask = (1 << bits) - 1;
      for (let i = 0; i < n; i++) {
        bytes[Math.floor(i / perByte)]! |= (asNumber(at(i)) & mask) << ((i % perByte) * bits);
      }
      break;
    }
    case 'string':
      throw new TypeError('string tensors are not stored as bytes');
  }
  return bytes;
}
