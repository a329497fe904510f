/**
 * Parsing of the textual IR's literals: types, tensors (readable values, hex, file references),
 * sparse tensors, locations and metadata maps. The inverse of `print-literals.ts`.
 */
import type { SparseTensor } from '../attribute.js';
import type { Location } from '../diagnostic.js';
import { byteLengthOf, isDType, type DType } from '../dtype.js';
import { decodeElements, encodeElements } from '../element-codec.js';
import { FileRangeStorage } from '../tensor-storage.js';
import { Tensor } from '../tensor.js';
import { elementCount, UNKNOWN_TYPE, type Dim, type QuantParams, type TensorType, type Type } from '../type.js';
import { describeToken, isNumericToken, numericText, numericValue, type Cursor } from './cursor.js';
import { checkFileReference } from './file-references.js';
import type { Token } from './lexer.js';

export function parseDType(cursor: Cursor, context: string): DType {
  const text = cursor.text;
  if (cursor.kind === 'word' && isDType(text)) {
    cursor.skip();
    return text;
  }
  const token = cursor.expectKind('word', 'a dtype', context);
  if (!isDType(token.text)) {
    throw cursor.errorAt(token, `unknown dtype '${token.text}'`, { expected: 'a dtype such as float32, int64, bfloat16, float8e4m3fn, int4' });
  }
  return token.text;
}

/** `[1,N,?,"batch size"]` or `[*]` (unranked, returns null). */
export function parseDims(cursor: Cursor, context: string): Dim[] | null {
  cursor.expectPunct('[', context);
  if (cursor.acceptPunct('*')) {
    cursor.expectPunct(']', "after '*' (unranked)");
    return null;
  }
  const dims: Dim[] = [];
  if (cursor.acceptPunct(']')) return dims;
  for (;;) {
    const kind = cursor.kind;
    if (kind === 'number') dims.push(cursor.expectInteger('as a dimension'));
    else if (kind === 'word' || kind === 'string') {
      dims.push(cursor.text);
      cursor.skip();
    } else if (cursor.acceptPunct('?')) dims.push(null);
    else throw cursor.errorAt(cursor.peek(), 'expected a dimension', { expected: "a size, a symbol or '?'", actual: describeToken(cursor.peek()) });
    if (cursor.acceptPunct(']')) return dims;
    cursor.expectPunct(',', 'between dimensions');
  }
}

function parseStaticShape(cursor: Cursor, context: string): number[] {
  const token = cursor.peek();
  const dims = parseDims(cursor, context);
  if (dims === null || !dims.every((d) => typeof d === 'number')) {
    throw cursor.errorAt(token, `a tensor literal needs a static shape`, { actual: dims === null ? 'unranked' : `[${dims.join(',')}]` });
  }
  return dims as number[];
}

function parseNumberList(cursor: Cursor, context: string): number[] {
  cursor.expectPunct('[', context);
  const values: number[] = [];
  if (cursor.acceptPunct(']')) return values;
  do values.push(cursor.expectNumber(context));
  while (cursor.acceptPunct(','));
  cursor.expectPunct(']', `after ${context}`);
  return values;
}

/** `quant<bits=8, axis=0, scale=[…], zero_point=[…]>` (the `quant` word already consumed). */
function parseQuant(cursor: Cursor, start: Token): QuantParams {
  cursor.expectPunct('<', "after 'quant'");
  let bits: number | undefined;
  let axis: number | undefined;
  let scale: number[] | undefined;
  let zeroPoint: number[] | undefined;
  do {
    const key = cursor.expectKind('word', 'a quant parameter', 'in quant<...>');
    cursor.expectPunct('=', `after '${key.text}'`);
    if (key.text === 'bits') bits = cursor.expectInteger("for 'bits'");
    else if (key.text === 'axis') axis = cursor.expectInteger("for 'axis'");
    else if (key.text === 'scale') scale = parseNumberList(cursor, 'scale values');
    else if (key.text === 'zero_point') zeroPoint = parseNumberList(cursor, 'zero points');
    else throw cursor.errorAt(key, `unknown quant parameter '${key.text}'`, { expected: 'bits, axis, scale or zero_point' });
  } while (cursor.acceptPunct(','));
  cursor.expectPunct('>', 'to close quant<...>');
  if (bits === undefined || scale === undefined || zeroPoint === undefined) {
    throw cursor.errorAt(start, 'quant<...> needs bits, scale and zero_point');
  }
  return axis === undefined ? { bits, scale, zeroPoint } : { bits, axis, scale, zeroPoint };
}

export function parseType(cursor: Cursor, context: string): Type {
  if (cursor.acceptPunct('?')) return UNKNOWN_TYPE;
  if (cursor.kind !== 'word') throw cursor.errorAt(cursor.peek(), `expected a type ${context}`, { actual: describeToken(cursor.peek()) });
  const word = cursor.text;
  switch (word) {
    case 'seq':
    case 'optional': {
      cursor.enter(cursor.next(), 'types');
      cursor.expectPunct('<', `after '${word}'`);
      const element = parseType(cursor, `inside ${word}<...>`);
      cursor.expectPunct('>', `to close ${word}<...>`);
      cursor.leave();
      return { kind: word === 'seq' ? 'sequence' : 'optional', element };
    }
    case 'map': {
      cursor.enter(cursor.next(), 'types');
      cursor.expectPunct('<', "after 'map'");
      const key = parseDType(cursor, 'as map key');
      cursor.expectPunct(',', 'after the map key type');
      const value = parseType(cursor, 'as map value');
      cursor.expectPunct('>', 'to close map<...>');
      cursor.leave();
      return { kind: 'map', key, value };
    }
    case 'sparse': {
      cursor.next();
      cursor.expectPunct('<', "after 'sparse'");
      const dtype = parseDType(cursor, 'in sparse<...>');
      const shape = parseDims(cursor, 'after the dtype');
      cursor.expectPunct('>', 'to close sparse<...>');
      return { kind: 'sparse-tensor', dtype, shape };
    }
    default: {
      const dtype = parseDType(cursor, context);
      const shape = parseDims(cursor, `after dtype '${dtype}'`);
      if (cursor.isWord('quant')) {
        const quantToken = cursor.next();
        return { kind: 'tensor', dtype, shape, quant: parseQuant(cursor, quantToken) };
      }
      return sharedTensorType(cursor, dtype, shape);
    }
  }
}

/** `{kind: 'tensor', dtype, shape}`, or the equal type read just before (consecutive values mostly share one). */
function sharedTensorType(cursor: Cursor, dtype: DType, shape: Dim[] | null): TensorType {
  const last = cursor.lastTensorType;
  if (last !== undefined && last.dtype === dtype && sameDims(last.shape, shape)) return last;
  const type: TensorType = { kind: 'tensor', dtype, shape };
  cursor.lastTensorType = type;
  return type;
}

function sameDims(a: readonly Dim[] | null, b: readonly Dim[] | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `tensor<float32[2]> [1.0, 2.0]` / `hex"…"` / `file("p", offset=…, length=…)`; `elided(N)` is refused. */
export function parseTensor(cursor: Cursor): Tensor {
  cursor.expectWord('tensor', 'to start a tensor literal');
  cursor.expectPunct('<', "after 'tensor'");
  const dtype = parseDType(cursor, 'in tensor<...>');
  const shape = parseStaticShape(cursor, `after dtype '${dtype}'`);
  const quant = cursor.isWord('quant') ? parseQuant(cursor, cursor.next()) : undefined;
  cursor.expectPunct('>', 'to close tensor<...>');
  const type: TensorType = { kind: 'tensor', dtype, shape };
  if (cursor.isPunct('[')) return parseReadableData(cursor, type, quant);
  const dataToken = cursor.peek();
  if (cursor.acceptWord('hex')) {
    const hexToken = cursor.peek();
    const hex = cursor.expectString("after 'hex'");
    if (dtype === 'string') throw cursor.errorAt(hexToken, 'string tensors are written as a list of strings, not hex');
    const expected = byteLengthOf(dtype, elementCount(shape));
    if (hex.length !== expected * 2 || !/^[0-9a-fA-F]*$/.test(hex)) {
      throw cursor.errorAt(hexToken, `bad hex data for ${dtype}[${shape.join(',')}]`, {
        expected: `${expected * 2} hex digits`,
        actual: /^[0-9a-fA-F]*$/.test(hex) ? `${hex.length}` : 'a non-hex character',
      });
    }
    return Tensor.fromBytes(dtype, shape, new Uint8Array(Buffer.from(hex, 'hex')), quant);
  }
  if (cursor.acceptWord('file')) {
    cursor.expectPunct('(', "after 'file'");
    const pathToken = cursor.peek();
    const written = cursor.expectString('as the data file path');
    cursor.expectPunct(',', 'after the file path');
    cursor.expectKeyEquals('offset', 'in file(...)');
    const offsetToken = cursor.peek();
    const offset = cursor.expectInteger('as the byte offset');
    if (offset < 0) throw cursor.errorAt(offsetToken, 'file range offset is negative', { expected: 'a byte offset ≥ 0', actual: `${offset}` });
    cursor.expectPunct(',', 'after the offset');
    cursor.expectKeyEquals('length', 'in file(...)');
    const lengthToken = cursor.peek();
    const length = cursor.expectInteger('as the byte length');
    cursor.expectPunct(')', 'to close file(...)');
    if (dtype === 'string') throw cursor.errorAt(dataToken, 'string tensors cannot live in a file range');
    const expected = byteLengthOf(dtype, elementCount(shape));
    if (length !== expected) {
      throw cursor.errorAt(lengthToken, `file range length does not match ${dtype}[${shape.join(',')}]`, { expected: `${expected}`, actual: `${length}` });
    }
    const checked = checkFileReference(written, cursor.fileReads);
    if ('problem' in checked) {
      const { problem, ...extra } = checked;
      throw cursor.errorAt(pathToken, problem, extra);
    }
    if (checked.size !== undefined && offset + length > checked.size) {
      throw cursor.errorAt(offsetToken, `file range [${offset}, ${offset + length}) is past the end of '${written}'`, {
        expected: `a file of at least ${offset + length} bytes`,
        actual: `${checked.size} bytes`,
      });
    }
    return Tensor.fromStorage(dtype, shape, new FileRangeStorage(checked.path, offset, length), quant);
  }
  if (cursor.isWord('elided')) {
    throw cursor.errorAt(dataToken, `tensor data was elided when this IR was printed, so it cannot be parsed back`, {
      hint: 'print without elideConstantsLargerThan, or keep file-backed weights as file(...) references',
    });
  }
  throw cursor.errorAt(dataToken, 'expected tensor data', { expected: "'[values]', hex\"…\" or file(…)", actual: describeToken(dataToken) });
}

const INTEGER_LIMITS: Partial<Record<DType, [bigint, bigint]>> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

/**
 * Float and narrow integer elements read straight from the scanner into doubles, without a token
 * object per element. Anything unusual (a non-numeric element, a wrong count, an integer dtype
 * given a float) returns undefined so that the general reader reports it exactly.
 */
function readNumericData(cursor: Cursor, dtype: DType, count: number): number[] | undefined {
  const isInteger = dtype.includes('int');
  cursor.expectPunct('[', 'to start tensor values');
  const values: number[] = [];
  if (cursor.acceptPunct(']')) return count === 0 ? values : undefined;
  do {
    const kind = cursor.kind;
    if (kind !== 'number' && kind !== 'word') return undefined;
    if (isInteger && cursor.isFloat) return undefined;
    const value = numericText(kind, cursor.text);
    if (value === undefined || (isInteger && !Number.isInteger(value))) return undefined;
    values.push(value);
    cursor.skip();
  } while (cursor.acceptPunct(','));
  if (!cursor.isPunct(']') || values.length !== count) return undefined;
  cursor.skip();
  return values;
}

/** Dtypes whose readable elements are plain doubles (not strings, booleans or 64-bit integers). */
function readsAsDoubles(dtype: DType): boolean {
  return dtype !== 'string' && dtype !== 'bool' && INTEGER_LIMITS[dtype] === undefined;
}

function parseReadableData(cursor: Cursor, type: TensorType, quant: QuantParams | undefined): Tensor {
  const { dtype } = type;
  if (readsAsDoubles(dtype)) {
    const shape = type.shape as number[];
    const count = elementCount(shape) * (dtype.startsWith('complex') ? 2 : 1);
    const mark = cursor.mark();
    const values = readNumericData(cursor, dtype, count);
    if (values !== undefined) {
      const bytes = encodeElements(dtype, values);
      if (!dtype.includes('int') || fitsExactly(dtype, bytes, values)) return Tensor.fromBytes(dtype, shape, bytes, quant);
    }
    cursor.rewind(mark);
  }
  return parseReadableTokens(cursor, type, quant);
}

function fitsExactly(dtype: DType, bytes: Uint8Array, values: readonly number[]): boolean {
  const decoded = decodeElements(dtype, bytes, values.length);
  for (let i = 0; i < values.length; i++) if (decoded[i] !== values[i]) return false;
  return true;
}

function parseReadableTokens(cursor: Cursor, type: TensorType, quant: QuantParams | undefined): Tensor {
  const { dtype } = type;
  const shape = type.shape as number[];
  const open = cursor.peek();
  cursor.expectPunct('[', 'to start tensor values');
  const tokens: Token[] = [];
  if (!cursor.acceptPunct(']')) {
    do tokens.push(cursor.next());
    while (cursor.acceptPunct(','));
    cursor.expectPunct(']', 'after tensor values');
  }
  const count = elementCount(shape) * (dtype.startsWith('complex') ? 2 : 1);
  if (tokens.length !== count) {
    throw cursor.errorAt(open, `wrong number of values for ${dtype}[${shape.join(',')}]`, { expected: `${count}`, actual: `${tokens.length}` });
  }
  if (dtype === 'string') {
    const bad = tokens.find((t) => t.kind !== 'string');
    if (bad) throw cursor.errorAt(bad, 'expected a string element', { actual: describeToken(bad) });
    return Tensor.fromStrings(shape, tokens.map((t) => t.text));
  }
  if (dtype === 'bool') {
    const values = tokens.map((t) => {
      if (t.kind === 'word' && (t.text === 'true' || t.text === 'false')) return t.text === 'true';
      if (t.kind === 'number' && (t.text === '0' || t.text === '1')) return t.text === '1';
      throw cursor.errorAt(t, 'expected true or false', { actual: describeToken(t) });
    });
    return Tensor.fromValues(dtype, shape, values, quant);
  }
  const limits = INTEGER_LIMITS[dtype];
  if (limits) {
    const values = tokens.map((t) => {
      if (t.kind !== 'number' || t.isFloat) throw cursor.errorAt(t, `expected an integer ${dtype} element`, { actual: describeToken(t) });
      const value = BigInt(t.text);
      if (value < limits[0] || value > limits[1]) throw cursor.errorAt(t, `value ${t.text} does not fit ${dtype}`);
      return value;
    });
    return Tensor.fromValues(dtype, shape, values, quant);
  }
  const isInteger = dtype.includes('int');
  const values = tokens.map((t) => {
    const value = isNumericToken(t) ? numericValue(t) : undefined;
    if (value === undefined || (isInteger && (t.isFloat || !Number.isInteger(value)))) {
      throw cursor.errorAt(t, `expected ${isInteger ? 'an integer' : 'a number'} ${dtype} element`, { actual: describeToken(t) });
    }
    return value;
  });
  const bytes = encodeElements(dtype, values);
  if (isInteger) {
    const decoded = decodeElements(dtype, bytes, values.length);
    const index = values.findIndex((v, i) => decoded[i] !== v);
    if (index >= 0) throw cursor.errorAt(tokens[index]!, `value ${tokens[index]!.text} does not fit ${dtype}`);
  }
  return Tensor.fromBytes(dtype, shape, bytes, quant);
}

/** `sparse<dims=[…], values=tensor<…> …, indices=tensor<int64[…]> …>` */
export function parseSparseTensor(cursor: Cursor): SparseTensor {
  const start = cursor.peek();
  cursor.expectWord('sparse', 'to start a sparse tensor literal');
  cursor.expectPunct('<', "after 'sparse'");
  let dims: number[] | undefined;
  let values: Tensor | undefined;
  let indices: Tensor | undefined;
  do {
    const key = cursor.expectKind('word', 'dims, values or indices', 'in sparse<...>');
    cursor.expectPunct('=', `after '${key.text}'`);
    if (key.text === 'dims') dims = parseStaticShape(cursor, "after 'dims='");
    else if (key.text === 'values') values = parseTensor(cursor);
    else if (key.text === 'indices') indices = parseTensor(cursor);
    else throw cursor.errorAt(key, `unknown sparse tensor field '${key.text}'`, { expected: 'dims, values or indices' });
  } while (cursor.acceptPunct(','));
  cursor.expectPunct('>', 'to close sparse<...>');
  if (!dims || !values || !indices) throw cursor.errorAt(start, 'sparse<...> needs dims, values and indices');
  return { dims, values, indices };
}

/** `meta{"key"="value", …}` (the `meta` word already consumed) into `target`. */
export function parseMetadata(cursor: Cursor, target: Map<string, string>): void {
  cursor.expectPunct('{', "after 'meta'");
  if (cursor.acceptPunct('}')) return;
  do {
    const key = cursor.peek();
    if (key.kind !== 'string' && key.kind !== 'word') throw cursor.errorAt(key, 'expected a metadata key', { actual: describeToken(key) });
    cursor.next();
    if (target.has(key.text)) throw cursor.errorAt(key, `duplicate metadata key ${JSON.stringify(key.text)}`);
    cursor.expectPunct('=', 'after the metadata key');
    target.set(key.text, cursor.expectString('as the metadata value'));
  } while (cursor.acceptPunct(','));
  cursor.expectPunct('}', 'to close meta{...}');
}

/** `loc("file":line:column, node="…", op="…", path="…")` (the `loc` word already consumed). */
export function parseLocation(cursor: Cursor): Location {
  cursor.expectPunct('(', "after 'loc'");
  const loc: { -readonly [K in keyof Location]: Location[K] } = {};
  if (cursor.acceptPunct(')')) return loc;
  if (cursor.peek().kind === 'string') {
    loc.file = cursor.next().text;
    if (cursor.acceptPunct(':')) {
      loc.line = cursor.expectInteger('as the line');
      if (cursor.acceptPunct(':')) loc.column = cursor.expectInteger('as the column');
    }
    if (cursor.acceptPunct(')')) return loc;
    cursor.expectPunct(',', 'after the location file');
  }
  do {
    const key = cursor.expectKind('word', 'a location field', 'in loc(...)');
    cursor.expectPunct('=', `after '${key.text}'`);
    if (key.text === 'line' || key.text === 'column') loc[key.text] = cursor.expectInteger(`as the ${key.text}`);
    else if (key.text === 'node' || key.text === 'op' || key.text === 'path' || key.text === 'file') loc[key.text] = cursor.expectString(`as the ${key.text}`);
    else throw cursor.errorAt(key, `unknown location field '${key.text}'`, { expected: 'line, column, node, op, path or file' });
  } while (cursor.acceptPunct(','));
  cursor.expectPunct(')', 'to close loc(...)');
  return loc;
}
