/**
 * Printing of the textual IR's literals: types, tensors, sparse tensors, locations, metadata maps.
 * Every literal reads back to the same value (tensor bytes bit-exact).
 */
import { isAbsolute, relative, sep } from 'node:path';
import type { SparseTensor } from '../attribute.js';
import type { Location } from '../diagnostic.js';
import type { DType } from '../dtype.js';
import { decodeElements, encodeElements, numberToBfloat16Bits, numberToFloat16Bits, type ElementValues } from '../element-codec.js';
import { FileRangeStorage } from '../tensor-storage.js';
import type { Tensor } from '../tensor.js';
import { tensorType, type Dim, type QuantParams, type Type } from '../type.js';
import { formatNumber, quoteString, wordOrString } from './syntax.js';

/** How the printer writes tensor data. */
export interface PrintOptions {
  /**
   * Tensors with more bytes than this are not written out. One backed by a file range prints as
   * `file("path", offset=…, length=…)` and parses back to the same lazy range; any other prints as
   * `elided(<bytes>)`, which the parser refuses with a clear error. Default: never elide.
   */
  elideConstantsLargerThan?: number;
  /** Print every file-range-backed tensor as a `file(...)` reference, whatever its size (default false). */
  referenceFileData?: boolean;
  /**
   * Print `file(...)` paths relative to this folder (the parser resolves them against the folder
   * of the `.mpir` file). Default: absolute paths as stored.
   */
  fileReferenceBase?: string;
  /**
   * Decides how each file-range tensor that would print as a `file(...)` reference is written:
   * return the path and offset to print (e.g. of a copy next to the output), or undefined to
   * print its data inline instead. Used by crash reproducers to stay self-contained.
   */
  mapFileReference?: (range: FileRangeStorage) => { path: string; offset: number } | undefined;
  /**
   * Tensors with at most this many elements print as readable values when those read back
   * bit-exactly; larger ones (and ones that would not round-trip, e.g. NaN payloads) print as hex
   * of their raw little-endian bytes. Default 256.
   */
  readableElementLimit?: number;
}

const DEFAULT_READABLE_LIMIT = 256;

export function printDims(shape: readonly Dim[] | null): string {
  if (shape === null) return '[*]';
  let out = '[';
  for (let i = 0; i < shape.length; i++) {
    if (i > 0) out += ',';
    const dim = shape[i]!;
    out += dim === null ? '?' : typeof dim === 'number' ? String(dim) : wordOrString(dim);
  }
  return out + ']';
}

export function printQuant(quant: QuantParams): string {
  let out = `quant<bits=${quant.bits}`;
  if (quant.axis !== undefined) out += `, axis=${quant.axis}`;
  out += `, scale=[${quant.scale.map(formatNumber).join(', ')}]`;
  out += `, zero_point=[${quant.zeroPoint.map(formatNumber).join(', ')}]>`;
  return out;
}

export function printType(type: Type): string {
  switch (type.kind) {
    case 'unknown':
      return '?';
    case 'tensor':
      return type.dtype + printDims(type.shape) + (type.quant ? ' ' + printQuant(type.quant) : '');
    case 'sparse-tensor':
      return `sparse<${type.dtype}${printDims(type.shape)}>`;
    case 'sequence':
      return `seq<${printType(type.element)}>`;
    case 'optional':
      return `optional<${printType(type.element)}>`;
    case 'map':
      return `map<${type.key}, ${printType(type.value)}>`;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

interface Narrowing {
  /** Maps a double to what the dtype stores for it. */
  narrow: (value: number) => number;
  /** Significant digits that always suffice to single out a value of the dtype. */
  maxDigits: number;
}

/** Narrow float dtypes print their shortest exact decimal rather than the widened double. */
const NARROWING: Partial<Record<DType, Narrowing>> = {
  float32: { narrow: (v) => Math.fround(v), maxDigits: 9 },
  complex64: { narrow: (v) => Math.fround(v), maxDigits: 9 },
  float16: { narrow: numberToFloat16Bits, maxDigits: 5 },
  bfloat16: { narrow: numberToBfloat16Bits, maxDigits: 4 },
};

/** 10^0 … 10^22: every one is an exact double, so products and quotients with them round once. */
const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * `Number(value.toPrecision(p))` for every p up to `maxDigits` (≤ 15) from a single
 * `value.toPrecision(maxDigits)`: its digits are rounded again to p digits in integer arithmetic.
 * That gives the digits rounding the exact value would, except when the dropped digits read exactly
 * `5`, `50`, `500`…, where the exact value may lie on either side of the tie: then `toPrecision(p)`
 * decides. The p digits scaled by an exact power of ten round exactly like parsing their spelling.
 */
class DecimalRounder {
  /** The `maxDigits` significant digits as an integer. */
  private readonly digits: number;
  /** Decimal exponent of the first significant digit. */
  private readonly exponent: number;
  private readonly negative: boolean;

  constructor(
    private readonly value: number,
    private readonly maxDigits: number,
  ) {
    this.negative = value < 0;
    const spelling = Math.abs(value).toPrecision(maxDigits);
    let digits = 0;
    let seenDigit = false;
    let point = -1;
    let firstDigitAt = -1;
    let leadingZeros = 0;
    let i = 0;
    for (; i < spelling.length; i++) {
      const code = spelling.charCodeAt(i);
      if (code === 46 /* . */) point = i;
      else if (code === 101 /* e */) break;
      else if (!seenDigit && code === 48) leadingZeros++;
      else {
        if (!seenDigit) firstDigitAt = i;
        seenDigit = true;
        digits = digits * 10 + (code - 48);
      }
    }
    this.digits = digits;
    if (i < spelling.length) this.exponent = Number(spelling.slice(i + 1));
    else if (point < 0) this.exponent = spelling.length - 1 - leadingZeros;
    else if (firstDigitAt < point) this.exponent = point - firstDigitAt - 1;
    else this.exponent = point - firstDigitAt;
  }

  /** The leading `precision` digits rounded half up, or -1 when only `toPrecision` can tell (a tie). */
  private mantissa(precision: number): number {
    if (precision >= this.maxDigits) return this.digits;
    const unit = EXACT_POWERS_OF_TEN[this.maxDigits - precision]!;
    const mantissa = Math.floor(this.digits / unit);
    const dropped = this.digits - mantissa * unit;
    if (dropped * 2 === unit) return -1;
    return dropped * 2 > unit ? mantissa + 1 : mantissa;
  }

  rounded(precision: number): number {
    const mantissa = this.mantissa(precision);
    if (mantissa < 0) return Number(this.value.toPrecision(precision));
    const scale = this.exponent - precision + 1;
    let magnitude: number;
    if (scale >= 0 && scale <= 22) magnitude = mantissa * EXACT_POWERS_OF_TEN[scale]!;
    else if (scale < 0 && scale >= -22) magnitude = mantissa / EXACT_POWERS_OF_TEN[-scale]!;
    else magnitude = Number(`${mantissa}e${scale}`);
    return this.negative ? -magnitude : magnitude;
  }

  /**
   * `String(this.rounded(precision))`, spelled from the digits: the double nearest a decimal of at
   * most 15 significant digits prints as exactly those digits (no shorter or other decimal of that
   * length lies within its rounding interval), laid out as Number.prototype.toString does.
   */
  spelling(precision: number): string {
    let mantissa = this.mantissa(precision);
    if (mantissa < 0) return formatNumber(this.rounded(precision));
    let scale = this.exponent - precision + 1;
    while (mantissa % 10 === 0) {
      mantissa /= 10;
      scale++;
    }
    const digits = String(mantissa);
    const k = digits.length;
    const n = k + scale;
    let text: string;
    if (k <= n && n <= 21) text = digits + '0'.repeat(n - k);
    else if (0 < n && n <= 21) text = digits.slice(0, n) + '.' + digits.slice(n);
    else if (-6 < n && n <= 0) text = '0.' + '0'.repeat(-n) + digits;
    else {
      const exponent = n - 1;
      text = (k === 1 ? digits : digits[0] + '.' + digits.slice(1)) + (exponent < 0 ? 'e-' : 'e+') + Math.abs(exponent);
    }
    return this.negative ? '-' + text : text;
  }
}

/**
 * The shortest decimal that narrows to the same stored value, e.g. `0.1` rather than
 * `0.10000000149011612` (a binary search over the digit count; the answer is always checked).
 */
function shortestNarrowFloat(value: number, { narrow, maxDigits }: Narrowing): string {
  if (!Number.isFinite(value) || Object.is(value, -0) || Number.isInteger(value)) return formatNumber(value);
  const target = narrow(value);
  const decimal = new DecimalRounder(value, maxDigits);
  const fits = (digits: number) => Object.is(narrow(decimal.rounded(digits)), target);
  if (!fits(maxDigits)) return formatNumber(value);
  let low = 1;
  let high = maxDigits;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (fits(middle)) high = middle;
    else low = middle + 1;
  }
  return decimal.spelling(high);
}

/** Dtypes whose decoded elements are exactly the stored IEEE values, one per 4 or 8 bytes. */
const WHOLE_FLOATS: ReadonlySet<DType> = new Set<DType>(['float32', 'float64', 'complex64', 'complex128']);

/** Readable element values, or undefined when they would not encode back to exactly `bytes`. */
function readableValues(tensor: Tensor, bytes: Uint8Array): string | undefined {
  const decoded = decodeElements(tensor.dtype, bytes, tensor.size);
  // Check against what the parser will produce: a NaN reads back as the canonical NaN, whatever payload it had.
  // Float32/float64 values without NaN re-encode to their own bytes, so only NaNs need the check there.
  let reread: ElementValues | undefined = decoded as ElementValues;
  if (WHOLE_FLOATS.has(tensor.dtype) && (decoded instanceof Float32Array || decoded instanceof Float64Array)) {
    reread = undefined;
    for (let i = 0; i < decoded.length; i++) {
      if (Number.isNaN(decoded[i])) {
        reread = Float64Array.from(decoded, (v) => (Number.isNaN(v) ? NaN : v));
        break;
      }
    }
  } else if (decoded instanceof Float32Array || decoded instanceof Float64Array) {
    reread = Float64Array.from(decoded, (v) => (Number.isNaN(v) ? NaN : v));
  }
  if (reread !== undefined && !sameBytes(encodeElements(tensor.dtype, reread), bytes)) return undefined;
  const parts = new Array<string>(decoded.length);
  if (tensor.dtype === 'bool') {
    for (let i = 0; i < decoded.length; i++) parts[i] = decoded[i] ? 'true' : 'false';
  } else if (tensor.dtype === 'int64' || tensor.dtype === 'uint64') {
    for (let i = 0; i < decoded.length; i++) parts[i] = String(decoded[i]);
  } else {
    const narrow = NARROWING[tensor.dtype];
    const numbers = decoded as ArrayLike<number>;
    if (narrow) for (let i = 0; i < numbers.length; i++) parts[i] = shortestNarrowFloat(numbers[i]!, narrow);
    else for (let i = 0; i < numbers.length; i++) parts[i] = formatNumber(numbers[i]!);
  }
  return `[${parts.join(', ')}]`;
}

/** Where printed text goes, piece by piece (a string builder or a streaming sink). */
export type TextWriter = (text: string) => void;

/** Bytes of tensor data hex-encoded per piece, so no piece of text grows with the tensor. */
const HEX_CHUNK_BYTES = 1 << 16;

function fileReference(storage: FileRangeStorage, options: PrintOptions): string | undefined {
  const mapped = options.mapFileReference ? options.mapFileReference(storage) : { path: storage.path, offset: storage.offset };
  if (mapped === undefined) return undefined;
  let path = mapped.path;
  if (options.fileReferenceBase !== undefined && isAbsolute(path)) {
    path = relative(options.fileReferenceBase, path).split(sep).join('/') || '.';
  }
  return `file(${quoteString(path)}, offset=${mapped.offset}, length=${storage.byteLength})`;
}

/**
 * The data part of a tensor literal, `[1, 2]`, `hex"…"`, `file(…)` or `elided(N)`, written in
 * pieces: hex data goes out 64 KiB of tensor bytes at a time, read through the storage's
 * `readChunk` when it has one, so a tensor larger than a string can hold still prints.
 */
export function writeTensorData(tensor: Tensor, options: PrintOptions, write: TextWriter): void {
  if (tensor.dtype === 'string') return write(`[${(tensor.strings ?? []).map(quoteString).join(', ')}]`);
  const storage = tensor.storage!;
  const limit = options.elideConstantsLargerThan;
  const elide = limit !== undefined && storage.byteLength > limit;
  if (storage instanceof FileRangeStorage && (elide || options.referenceFileData)) {
    const reference = fileReference(storage, options);
    if (reference !== undefined) return write(reference);
  } else if (elide) return write(`elided(${storage.byteLength})`);
  if (tensor.size <= (options.readableElementLimit ?? DEFAULT_READABLE_LIMIT)) {
    const readable = readableValues(tensor, tensor.bytes());
    if (readable !== undefined) return write(readable);
  }
  write('hex"');
  const total = storage.byteLength;
  if (storage.readChunk && total > HEX_CHUNK_BYTES) {
    const chunk = Buffer.allocUnsafe(HEX_CHUNK_BYTES);
    for (let start = 0; start < total; start += HEX_CHUNK_BYTES) {
      const piece = chunk.subarray(0, Math.min(HEX_CHUNK_BYTES, total - start));
      storage.readChunk(piece, start);
      write(piece.toString('hex'));
    }
  } else {
    const bytes = tensor.bytes();
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let start = 0; start < buffer.byteLength; start += HEX_CHUNK_BYTES) write(buffer.toString('hex', start, Math.min(buffer.byteLength, start + HEX_CHUNK_BYTES)));
  }
  write('"');
}

/** The data part of a tensor literal as one string (see `writeTensorData`). */
export function printTensorData(tensor: Tensor, options: PrintOptions): string {
  let text = '';
  writeTensorData(tensor, options, (piece) => (text += piece));
  return text;
}

/** The tensor type a constant's value gets from its tensor. */
export function tensorTypeOf(tensor: Tensor): Type {
  return tensorType(tensor.dtype, tensor.shape, tensor.quant);
}

/** `tensor<float32[2]> [1, 2]`, written in pieces (see `writeTensorData`). */
export function writeTensor(tensor: Tensor, options: PrintOptions, write: TextWriter): void {
  write(`tensor<${printType(tensorTypeOf(tensor))}> `);
  writeTensorData(tensor, options, write);
}

/** `tensor<float32[2]> [1, 2]` */
export function printTensor(tensor: Tensor, options: PrintOptions): string {
  return `tensor<${printType(tensorTypeOf(tensor))}> ${printTensorData(tensor, options)}`;
}

/** A sparse tensor literal written in pieces. */
export function writeSparseTensor(sparse: SparseTensor, options: PrintOptions, write: TextWriter): void {
  write(`sparse<dims=${printDims(sparse.dims)}, values=`);
  writeTensor(sparse.values, options, write);
  write(', indices=');
  writeTensor(sparse.indices, options, write);
  write('>');
}

export function sparseTypeOf(sparse: SparseTensor): Type {
  return { kind: 'sparse-tensor', dtype: sparse.values.dtype, shape: sparse.dims };
}

/** `sparse<dims=[4,4], values=tensor<…> …, indices=tensor<int64[…]> …>` */
export function printSparseTensor(sparse: SparseTensor, options: PrintOptions): string {
  return (
    `sparse<dims=${printDims(sparse.dims)}, values=${printTensor(sparse.values, options)}, ` +
    `indices=${printTensor(sparse.indices, options)}>`
  );
}

/** `meta{"key"="value", …}` (empty string when the map is empty). */
export function printMetadata(metadata: ReadonlyMap<string, string>): string {
  if (metadata.size === 0) return '';
  const parts: string[] = [];
  for (const [key, value] of metadata) parts.push(`${quoteString(key)}=${quoteString(value)}`);
  return `meta{${parts.join(', ')}}`;
}

/** `loc("model.onnx":12:3)`, `loc(line=4)`, `loc("f", node="n", op="onnx.Relu", path="main/n")`; '' when empty. */
export function printLocation(loc: Location): string {
  let text = '';
  let lineWritten = false;
  let columnWritten = false;
  if (loc.file !== undefined) {
    text = quoteString(loc.file);
    if (loc.line !== undefined) {
      text += `:${loc.line}`;
      lineWritten = true;
      if (loc.column !== undefined) {
        text += `:${loc.column}`;
        columnWritten = true;
      }
    }
  }
  const part = (piece: string) => {
    text = text === '' ? piece : `${text}, ${piece}`;
  };
  if (loc.file === undefined && loc.line === undefined && loc.column === undefined && loc.node === undefined && loc.op === undefined && loc.path === undefined) return '';
  if (loc.line !== undefined && !lineWritten) part(`line=${loc.line}`);
  if (loc.column !== undefined && !columnWritten) part(`column=${loc.column}`);
  if (loc.node !== undefined) part(`node=${quoteString(loc.node)}`);
  if (loc.op !== undefined) part(`op=${quoteString(loc.op)}`);
  if (loc.path !== undefined) part(`path=${quoteString(loc.path)}`);
  return `loc(${text})`;
}
