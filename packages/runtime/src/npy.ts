/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0): a magic string, a version, a header that is
 * a Python dict literal (`descr`, `fortran_order`, `shape`), then the raw array in C order.
 * Numeric dtypes and bool map onto `Tensor`, as do NumPy's fixed-width strings (`<U<n>` and `|S<n>`,
 * read as string tensors; string tensors are written as `<U<n>`); big-endian data is byte-swapped on read.
 */
import { closeSync, openSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Tensor, byteLengthOf, elementCount, type DType } from '@modelpass/ir';
import { runtimeError } from './errors.js';
import { checkRegularFile, readRegularFile } from './regular-file.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** NumPy type code (kind + item size, without the byte-order character) → our dtype. */
const npyTypeToDType = new Map<string, DType>([
  ['f2', 'float16'],
  ['f4', 'float32'],
  ['f8', 'float64'],
  ['i1', 'int8'],
  ['i2', 'int16'],
  ['i4', 'int32'],
  ['i8', 'int64'],
  ['u1', 'uint8'],
  ['u2', 'uint16'],
  ['u4', 'uint32'],
  ['u8', 'uint64'],
  ['b1', 'bool'],
]);

const dtypeToNpyDescr = new Map<DType, string>(
  [...npyTypeToDType].map(([code, dtype]) => [dtype, (code.endsWith('1') ? '|' : '<') + code]),
);

/** The NumPy dtypes we read and write, by their `descr` spelling. */
export const NPY_DESCRIPTORS: ReadonlyMap<DType, string> = dtypeToNpyDescr;

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

/** Parses `.npy` bytes into a tensor. `name` (a file path) is only used in diagnostics. */
export function decodeNpy(bytes: Uint8Array, name = '<npy bytes>'): Tensor {
  const fail = (reason: string, extra: { expected?: string; actual?: string; hint?: string } = {}) =>
    runtimeError({ reason: `${reason} in NumPy file`, location: { file: name }, ...extra });
  if (bytes.byteLength < 10 || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw fail('missing the \\x93NUMPY magic', { expected: 'a .npy file written by numpy.save' });
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = dv.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.byteLength < 12) throw fail('truncated header');
    headerLength = dv.getUint32(8, true);
    headerStart = 12;
  } else {
    throw fail(`unsupported format version ${major}.${minor}`, { expected: 'version 1.0, 2.0 or 3.0' });
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.byteLength) throw fail('truncated header');
  const headerBytes = bytes.subarray(headerStart, dataStart);
  const headerText = major === 3 ? new TextDecoder('utf-8').decode(headerBytes) : Buffer.from(headerBytes).toString('latin1');
  const header = parseHeader(headerText, fail);
  if (header.fortranOrder) {
    throw fail('array is stored in Fortran (column-major) order', {
      expected: 'fortran_order: False',
      hint: 'save a C-ordered copy: np.save(path, np.ascontiguousarray(a))',
    });
  }
  const order = header.descr[0]!;
  const code = header.descr.slice(1);
  const stringMatch = /^([US])(\d+)$/.exec(code);
  if (stringMatch && '<>|='.includes(order)) return decodeStrings(bytes.subarray(dataStart), header.shape, stringMatch[1] as 'U' | 'S', Number(stringMatch[2]), order === '>', fail);
  const dtype = npyTypeToDType.get(code);
  if (!dtype || !'<>|='.includes(order)) {
    throw fail(`unsupported dtype '${header.descr}'`, {
      expected: `one of ${[...dtypeToNpyDescr.values()].join(' ')}`,
      actual: header.descr,
    });
  }
  const count = elementCount(header.shape);
  const byteLength = byteLengthOf(dtype, count);
  if (bytes.byteLength - dataStart < byteLength) {
    throw fail('data is shorter than its shape says', {
      expected: `${byteLength} bytes for ${dtype}[${header.shape.join(',')}]`,
      actual: `${bytes.byteLength - dataStart} bytes`,
    });
  }
  // A copy (not `slice`, which on a Node Buffer is a view into a shared pool).
  const data = new Uint8Array(bytes.subarray(dataStart, dataStart + byteLength));
  const itemSize = Number(code.slice(1));
  if (order === '>' && itemSize > 1) swapBytes(data, itemSize);
  if (dtype === 'bool') {
    for (let i = 0; i < data.length; i++) data[i] = data[i] ? 1 : 0;
  }
  return Tensor.fromBytes(dtype, header.shape, data);
}

/**
 * NumPy fixed-width strings: `U<n>` is UTF-32 (n code points), `S<n>` is n bytes; NULs pad the end
 * (trailing NULs are stripped, inner ones kept, as NumPy does).
 */
function decodeStrings(data: Uint8Array, shape: number[], kind: 'U' | 'S', width: number, bigEndian: boolean, fail: HeaderFailure): Tensor {
  const count = elementCount(shape);
  // A zero-width string type would let a tiny file claim any number of elements (3e8 empty strings
  // from 128 bytes): numpy itself never writes one for a non-empty array.
  if (width === 0 && count > 0) {
    throw fail(`zero-width string dtype '${kind}0' for ${count} elements`, { expected: `a width of at least 1 (e.g. '<${kind}1')` });
  }
  const itemSize = kind === 'U' ? width * 4 : width;
  // Checked before anything is allocated: the file must hold every element it claims.
  if (data.byteLength < count * itemSize) {
    throw fail('data is shorter than its shape says', { expected: `${count * itemSize} bytes for ${kind}${width}[${shape.join(',')}]`, actual: `${data.byteLength} bytes` });
  }
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const strings = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const start = i * itemSize;
    if (kind === 'U') {
      // Like NumPy, only trailing NULs are padding: an inner NUL is part of the string.
      let length = width;
      while (length > 0 && dv.getUint32(start + (length - 1) * 4, !bigEndian) === 0) length--;
      let text = '';
      for (let j = 0; j < length; j++) {
        const codePoint = dv.getUint32(start + j * 4, !bigEndian);
        if (codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) {
          throw fail(`element ${i} holds an invalid Unicode code point 0x${codePoint.toString(16)}`, { expected: 'UTF-32 code points up to 0x10ffff' });
        }
        text += String.fromCodePoint(codePoint);
      }
      strings[i] = text;
    } else {
      let end = start + width;
      while (end > start && data[end - 1] === 0) end--;
      strings[i] = Buffer.from(data.subarray(start, end)).toString('utf8');
    }
  }
  return Tensor.fromStrings(shape, strings);
}

function swapBytes(data: Uint8Array, itemSize: number): void {
  for (let start = 0; start < data.length; start += itemSize) {
    for (let i = 0, j = itemSize - 1; i < j; i++, j--) {
      const t = data[start + i]!;
      data[start + i] = data[start + j]!;
      data[start + j] = t;
    }
  }
}

type HeaderFailure = (reason: string, extra?: { expected?: string; actual?: string }) => Error;

/** Parses the header dict, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`. */
function parseHeader(text: string, fail: HeaderFailure): NpyHeader {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw fail('malformed header', { expected: "a dict with 'descr', 'fortran_order' and 'shape'", actual: text.trim() });
  }
  const shape: number[] = [];
  for (const part of shapeText.split(',')) {
    const trimmed = part.trim().replace(/L$/, '');
    if (trimmed === '') continue;
    if (!/^\d+$/.test(trimmed)) throw fail(`bad shape entry '${part.trim()}'`, { actual: `(${shapeText})` });
    const dim = Number(trimmed);
    // Checked per dimension: a zero elsewhere would hide a dimension no tensor can describe.
    if (!Number.isSafeInteger(dim)) {
      throw fail(`shape entry '${trimmed}' is beyond the largest supported dimension`, { expected: `dimensions up to ${Number.MAX_SAFE_INTEGER}`, actual: `(${shapeText})` });
    }
    shape.push(dim);
  }
  const count = shape.reduce((n, d) => n * d, 1);
  if (!Number.isSafeInteger(count)) throw fail(`shape (${shapeText}) has more elements than any file can hold`, { actual: `(${shapeText})` });
  return { descr, fortranOrder: fortran === 'True', shape };
}

/** Serializes a tensor as `.npy` bytes (version 1.0, or 2.0 when the header needs it). */
export function encodeNpy(tensor: Tensor): Uint8Array {
  const strings = tensor.dtype === 'string' ? (tensor.strings ?? []).map((s, index) => codePointsOf(s, index)) : undefined;
  const stringWidth = strings ? Math.max(1, ...strings.map((s) => s.length)) : 0;
  const descr = strings ? `<U${stringWidth}` : dtypeToNpyDescr.get(tensor.dtype);
  if (!descr) {
    throw runtimeError({
      reason: `cannot write a ${tensor.dtype} tensor as .npy`,
      expected: `one of ${[...dtypeToNpyDescr.keys()].join(', ')}`,
      actual: tensor.dtype,
    });
  }
  const dims = tensor.shape.map((dim, axis) => npyDimension(dim, axis, tensor.shape));
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  let major = 1;
  let prefix = 10;
  // The header (with its newline) pads with spaces so the data starts on a 64-byte boundary.
  let total = prefix + dict.length + 1;
  if (Math.ceil(total / 64) * 64 - prefix > 0xffff) {
    major = 2;
    prefix = 12;
    total = prefix + dict.length + 1;
  }
  const padded = Math.ceil(total / 64) * 64;
  dict = dict + ' '.repeat(padded - total) + '\n';
  const data = strings ? encodeStrings(strings, stringWidth) : tensor.bytes();
  const out = new Uint8Array(prefix + dict.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, dict.length, true);
  else dv.setUint32(8, dict.length, true);
  out.set(Buffer.from(dict, 'latin1'), prefix);
  out.set(data, prefix + dict.length);
  return out;
}

/** A shape entry as NumPy's header writes it: a decimal integer (never `1e+23`). */
function npyDimension(dim: number, axis: number, shape: readonly number[]): string {
  if (!Number.isSafeInteger(dim) || dim < 0) {
    throw runtimeError({
      reason: `cannot write a tensor of shape [${shape.join(', ')}] as .npy: dimension ${axis} is not a non-negative integer up to ${Number.MAX_SAFE_INTEGER}`,
      expected: 'integer dimensions',
      actual: String(dim),
    });
  }
  return String(dim);
}

/** The UTF-32 code points of one string element; a lone surrogate has none, so it is refused. */
function codePointsOf(text: string, index: number): number[] {
  const codePoints = [...text].map((c) => c.codePointAt(0)!);
  const bad = codePoints.find((c) => c >= 0xd800 && c <= 0xdfff);
  if (bad !== undefined) {
    throw runtimeError({
      reason: `cannot write string element ${index} as .npy: it holds a lone UTF-16 surrogate 0x${bad.toString(16)}`,
      expected: 'well-formed Unicode text',
    });
  }
  return codePoints;
}

function encodeStrings(strings: number[][], width: number): Uint8Array {
  const out = new Uint8Array(strings.length * width * 4);
  const dv = new DataView(out.buffer);
  strings.forEach((codePoints, i) => codePoints.forEach((c, j) => dv.setUint32((i * width + j) * 4, c, true)));
  return out;
}

/** Reads a `.npy` file into a tensor. */
export function readNpy(path: string): Tensor {
  return decodeNpy(readRegularFile(path, 'NumPy file'), path);
}

/**
 * Reads the first `rows` entries along the first axis of a numeric `.npy` file, reading only those
 * bytes (a dataset's `limit` on a file far larger than memory). Fewer rows in the file: all of them.
 */
export function readNpyRows(path: string, rows: number): Tensor {
  const stats = checkRegularFile(path, 'NumPy file');
  const fd = openSync(path, 'r');
  try {
    const read = (length: number, position: number): Uint8Array => {
      const bytes = new Uint8Array(length);
      const got = readSync(fd, bytes, 0, length, position);
      return got === length ? bytes : bytes.subarray(0, got);
    };
    const layout = decodeNpyLayout(read(Math.min(stats.size, 1 << 20), 0), path);
    if (layout.shape.length < 1) throw runtimeError({ reason: `'${path}' has no first axis to take rows of`, location: { file: path }, actual: 'shape []' });
    const shape = [Math.min(rows, layout.shape[0]!), ...layout.shape.slice(1)];
    const length = elementCount(shape) * layout.itemSize;
    const bytes = read(length, layout.dataOffset);
    if (bytes.length < length) {
      throw runtimeError({ reason: 'data is shorter than its shape says in NumPy file', location: { file: path }, expected: `${length} bytes`, actual: `${bytes.length} bytes` });
    }
    if (layout.bigEndian) swapBytes(bytes, layout.itemSize);
    return Tensor.fromBytes(layout.dtype, shape, bytes);
  } finally {
    closeSync(fd);
  }
}

/** Writes a tensor to a `.npy` file atomically (a temporary file in the same folder, then a rename). */
export function writeNpy(tensor: Tensor, path: string): void {
  const bytes = encodeNpy(tensor);
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, bytes);
    renameSync(temporary, path);
  } catch (cause) {
    rmSync(temporary, { force: true });
    throw runtimeError({ reason: `cannot write NumPy file '${path}'`, location: { file: path }, cause });
  }
}

/** Where a numeric `.npy` file keeps its elements, for reading it a piece at a time (`streamDatasetSamples`). */
export interface NpyLayout {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Byte offset of the first element. */
  readonly dataOffset: number;
  /** Bytes per element. */
  readonly itemSize: number;
  /** Elements are stored big-endian (swap them before `Tensor.fromBytes`). */
  readonly bigEndian: boolean;
}

/**
 * Parses the header of a numeric, C-ordered `.npy` file from its first bytes (they must reach past
 * the header; the data need not be there). String dtypes are refused: they cannot be read in pieces.
 */
export function decodeNpyLayout(prefix: Uint8Array, name = '<npy bytes>'): NpyLayout {
  const fail = (reason: string, extra: { expected?: string; actual?: string; hint?: string } = {}) =>
    runtimeError({ reason: `${reason} in NumPy file`, location: { file: name }, ...extra });
  if (prefix.byteLength < 10 || !MAGIC.every((b, i) => prefix[i] === b)) throw fail('missing the \\x93NUMPY magic', { expected: 'a .npy file written by numpy.save' });
  const major = prefix[6]!;
  const dv = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  if (major !== 1 && major !== 2 && major !== 3) throw fail(`unsupported format version ${major}.${prefix[7]}`, { expected: 'version 1.0, 2.0 or 3.0' });
  if (major !== 1 && prefix.byteLength < 12) throw fail('truncated header');
  const headerStart = major === 1 ? 10 : 12;
  const dataOffset = headerStart + (major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true));
  if (dataOffset > prefix.byteLength) throw fail('truncated header');
  const headerBytes = prefix.subarray(headerStart, dataOffset);
  const header = parseHeader(major === 3 ? new TextDecoder('utf-8').decode(headerBytes) : Buffer.from(headerBytes).toString('latin1'), fail);
  if (header.fortranOrder) throw fail('array is stored in Fortran (column-major) order', { expected: 'fortran_order: False', hint: 'save a C-ordered copy: np.save(path, np.ascontiguousarray(a))' });
  const code = header.descr.slice(1);
  const dtype = npyTypeToDType.get(code);
  if (!dtype || !'<>|='.includes(header.descr[0]!)) {
    throw fail(`unsupported dtype '${header.descr}' for reading in pieces`, { expected: `one of ${[...dtypeToNpyDescr.values()].join(' ')}`, actual: header.descr });
  }
  const itemSize = Number(code.slice(1));
  return { dtype, shape: header.shape, dataOffset, itemSize, bigEndian: header.descr[0] === '>' && itemSize > 1 };
}
