/**
 * Parsing of attribute dictionaries `{name=value, …}`. A value's kind is read from its spelling:
 * `1` int, `1.0`/`nan`/`inf` float, `"s"` string, `tensor<…>`, `sparse<…>`, `type<…>`, `graph @g(…) {…}`,
 * `ref(kind, "name")`, and lists `[…]` whose kind comes from their elements (or an explicit
 * `ints[…]`, `floats[…]`, … prefix, which empty lists need).
 */
import type { Attribute, AttributeKind, SparseTensor } from '../attribute.js';
import type { Graph } from '../graph.js';
import type { Tensor } from '../tensor.js';
import type { Type } from '../type.js';
import { describeToken, isNumericToken, numericText, numericValue, type Cursor } from './cursor.js';
import type { Token } from './lexer.js';
import { parseSparseTensor, parseTensor, parseType } from './parse-literals.js';
import { ATTRIBUTE_KIND_BY_SPELLING, isListKind, type ListAttributeKind } from './syntax.js';

/** Parses a nested graph block; supplied by the graph parser (graphs nest through attributes). */
export type GraphParser = () => Graph;

export function parseAttributeDict(cursor: Cursor, parseGraph: GraphParser): Map<string, Attribute> {
  cursor.expectPunct('{', 'to start attributes');
  const attributes = new Map<string, Attribute>();
  if (cursor.acceptPunct('}')) return attributes;
  do {
    const kind = cursor.kind;
    const key = cursor.text;
    if (kind !== 'word' && kind !== 'string') throw cursor.errorAt(cursor.peek(), 'expected an attribute name', { actual: describeToken(cursor.peek()) });
    if (attributes.has(key)) throw cursor.errorAt(cursor.peek(), `duplicate attribute '${key}'`);
    cursor.skip();
    cursor.expectPunct('=', `after attribute name '${key}'`);
    attributes.set(key, parseAttributeValue(cursor, parseGraph));
  } while (cursor.acceptPunct(','));
  cursor.expectPunct('}', 'after attributes');
  return attributes;
}

function readInt(cursor: Cursor, token: Token): number {
  if (token.kind !== 'number' || token.isFloat) throw cursor.errorAt(token, 'expected an integer', { actual: describeToken(token) });
  return intValue(cursor, token);
}

/**
 * An int attribute literal as a number. Ints keep any magnitude a double holds (1e300 prints back
 * as its digits); one beyond that would read as Infinity, which the printer cannot write as an
 * int, so it is a located error.
 */
function intValue(cursor: Cursor, token: Token): number {
  const value = Number(token.text);
  if (!Number.isFinite(value)) {
    const digits = token.text.replace(/^-/, '').length;
    throw cursor.errorAt(token, 'integer attribute value is too large to represent', {
      expected: 'an integer below 1.8e308 in magnitude (ONNX ints are int64: up to 9223372036854775807)',
      actual: digits > 40 ? `an integer of ${digits} digits` : token.text,
    });
  }
  return value;
}

function readFloat(cursor: Cursor, token: Token): number {
  const value = numericValue(token);
  if (value === undefined) throw cursor.errorAt(token, 'expected a number', { actual: describeToken(token) });
  return value;
}

type ElementParser = (cursor: Cursor, parseGraph: GraphParser) => unknown;

const elementParsers: Record<ListAttributeKind, ElementParser> = {
  ints: (cursor) => readInt(cursor, cursor.next()),
  floats: (cursor) => readFloat(cursor, cursor.next()),
  strings: (cursor) => cursor.expectString('as a list element'),
  tensors: (cursor): Tensor => parseTensor(cursor),
  'sparse-tensors': (cursor): SparseTensor => parseSparseTensor(cursor),
  types: (cursor): Type => parseTypeLiteral(cursor),
  graphs: (_cursor, parseGraph) => parseGraph(),
};

function parseTypeLiteral(cursor: Cursor): Type {
  cursor.expectWord('type', 'to start a type literal');
  cursor.expectPunct('<', "after 'type'");
  const type = parseType(cursor, 'in type<...>');
  cursor.expectPunct('>', 'to close type<...>');
  return type;
}

/** The list kind a first element implies, or undefined when it implies none. */
function listKindOf(token: Token): ListAttributeKind | undefined {
  if (isNumericToken(token)) return 'ints';
  if (token.kind === 'string') return 'strings';
  if (token.kind !== 'word') return undefined;
  switch (token.text) {
    case 'tensor':
      return 'tensors';
    case 'sparse':
      return 'sparse-tensors';
    case 'type':
      return 'types';
    case 'graph':
      return 'graphs';
    default:
      return undefined;
  }
}

function parseList(cursor: Cursor, parseGraph: GraphParser, explicitKind: ListAttributeKind | undefined): Attribute {
  const open = cursor.peek();
  cursor.expectPunct('[', 'to start a list');
  if (cursor.acceptPunct(']')) {
    if (!explicitKind) throw cursor.errorAt(open, 'an empty list needs its kind', { hint: 'write ints[], floats[], strings[], tensors[], graphs[], sparse_tensors[] or types[]' });
    return { kind: explicitKind, value: [] } as Attribute;
  }
  const first = cursor.peek();
  let kind = explicitKind ?? listKindOf(first);
  if (!kind) throw cursor.errorAt(first, 'expected a list element', { actual: describeToken(first) });
  let values: unknown[];
  if (kind === 'ints' || kind === 'floats') {
    // A numeric list is floats when any element is written as a float.
    const tokens: Token[] = [];
    do tokens.push(cursor.next());
    while (cursor.acceptPunct(','));
    if (!explicitKind && tokens.some((t) => t.isFloat || t.kind === 'word')) kind = 'floats';
    values = tokens.map((t) => (kind === 'ints' ? readInt(cursor, t) : readFloat(cursor, t)));
  } else {
    const parseElement = elementParsers[kind];
    values = [];
    do values.push(parseElement(cursor, parseGraph));
    while (cursor.acceptPunct(','));
  }
  cursor.expectPunct(']', 'to close the list');
  return { kind, value: values } as Attribute;
}

export function parseAttributeValue(cursor: Cursor, parseGraph: GraphParser): Attribute {
  if (cursor.isPunct('[')) return parseList(cursor, parseGraph, undefined);
  const kind = cursor.kind;
  const text = cursor.text;
  if (kind === 'string') {
    cursor.skip();
    return { kind: 'string', value: text };
  }
  const number = numericText(kind, text);
  if (number !== undefined) {
    const isFloat = cursor.isFloat || kind === 'word';
    const token = cursor.next();
    return isFloat ? { kind: 'float', value: number } : { kind: 'int', value: intValue(cursor, token) };
  }
  const token = cursor.peek();
  if (token.kind === 'word') {
    switch (token.text) {
      case 'tensor':
        return { kind: 'tensor', value: parseTensor(cursor) };
      case 'sparse':
        return { kind: 'sparse-tensor', value: parseSparseTensor(cursor) };
      case 'type':
        return { kind: 'type', value: parseTypeLiteral(cursor) };
      case 'graph':
        return { kind: 'graph', value: parseGraph() };
      case 'ref':
        return parseReference(cursor);
      default: {
        const kind = ATTRIBUTE_KIND_BY_SPELLING.get(token.text);
        if (kind && isListKind(kind)) {
          cursor.next();
          return parseList(cursor, parseGraph, kind);
        }
      }
    }
  }
  throw cursor.errorAt(token, 'expected an attribute value', { actual: describeToken(token) });
}

/** `ref(float, "alpha")`: a function-body attribute referring to the function's attribute. */
function parseReference(cursor: Cursor): Attribute {
  cursor.expectWord('ref', 'to start a reference');
  cursor.expectPunct('(', "after 'ref'");
  const kindToken = cursor.expectKind('word', 'an attribute kind', "in ref(...)");
  const refKind: AttributeKind | undefined = ATTRIBUTE_KIND_BY_SPELLING.get(kindToken.text);
  if (!refKind) throw cursor.errorAt(kindToken, `unknown attribute kind '${kindToken.text}'`, { expected: [...ATTRIBUTE_KIND_BY_SPELLING.keys()].join(', ') });
  cursor.expectPunct(',', 'after the referenced kind');
  const refName = cursor.expectString('as the referenced attribute name');
  cursor.expectPunct(')', 'to close ref(...)');
  return { kind: 'ref', refKind, refName };
}

