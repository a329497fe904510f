/**
 * Lexical conventions of the textual IR (`.mpir`) shared by the printer and the parser: which
 * names print bare, how strings are escaped, how numbers are spelled so they read back exactly.
 */
import type { AttributeKind } from '../attribute.js';

/** A bare word: keywords, op names (`onnx.Conv`, `com.microsoft.FusedConv`), dtypes, dim symbols. */
export const WORD_PATTERN = /^[A-Za-z_][A-Za-z0-9_.\-]*$/;

/** Characters allowed in a bare `%value` or `@graph` name. */
export const NAME_PATTERN = /^[A-Za-z0-9_.$\-/]+$/;

export function isWordStart(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}

export function isWordPart(code: number): boolean {
  return isWordStart(code) || (code >= 48 && code <= 57) || code === 46 || code === 45;
}

export function isNamePart(code: number): boolean {
  return (
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    (code >= 48 && code <= 57) ||
    code === 95 ||
    code === 46 ||
    code === 36 ||
    code === 45 ||
    code === 47
  );
}

/** `"..."` with `\"`, `\\`, `\n`, `\t`, `\r` and `\u{h}` for other control characters and lone surrogates. */
export function quoteString(text: string): string {
  let out = '"';
  let plainFrom = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    let escape: string | undefined;
    if (code === 34) escape = '\\"';
    else if (code === 92) escape = '\\\\';
    else if (code === 10) escape = '\\n';
    else if (code === 9) escape = '\\t';
    else if (code === 13) escape = '\\r';
    else if (code < 0x20 || code === 0x7f) escape = `\\u{${code.toString(16)}}`;
    else if (code >= 0xd800 && code <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      escape = `\\u{${code.toString(16)}}`;
    }
    if (escape !== undefined) {
      out += text.slice(plainFrom, i) + escape;
      plainFrom = i + 1;
    }
  }
  return out + text.slice(plainFrom) + '"';
}

/** A word when it lexes as one and is not a reserved word, else a quoted string. */
export function wordOrString(text: string, reserved?: ReadonlySet<string>): string {
  return isWord(text) && !reserved?.has(text) ? text : quoteString(text);
}

/** Whether `text` matches WORD_PATTERN (a character loop: this runs for every op and symbol printed). */
export function isWord(text: string): boolean {
  if (text.length === 0 || !isWordStart(text.charCodeAt(0))) return false;
  for (let i = 1; i < text.length; i++) if (!isWordPart(text.charCodeAt(i))) return false;
  return true;
}

/** Whether `text` matches NAME_PATTERN. */
export function isBareName(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isNamePart(text.charCodeAt(i))) return false;
  return true;
}

/** `%name` / `@name`: bare when every character is a name character, else quoted. */
export function sigilName(sigil: '%' | '@', name: string): string {
  return sigil + (isBareName(name) ? name : quoteString(name));
}

/**
 * A float so that it reads back as the same double and never looks like an integer:
 * `1.0`, `0.1`, `-0.0`, `1e+21`, `nan`, `inf`, `-inf`.
 */
export function formatFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (Object.is(value, -0)) return '-0.0';
  const text = String(value);
  return text.includes('.') || text.includes('e') ? text : `${text}.0`;
}

/** A number that reads back exactly in a numeric context (quant params, dense data): `3`, `-0`, `0.5`, `nan`. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (Object.is(value, -0)) return '-0';
  return String(value);
}

/** An integer attribute value; integers past 1e21 are written in full so they stay integers. */
export function formatInt(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) >= 1e21) return BigInt(value).toString();
  return String(value);
}

/** Attribute kinds as the text spells them (`sparse_tensor` rather than `sparse-tensor`). */
export const ATTRIBUTE_KIND_SPELLING: Readonly<Record<AttributeKind, string>> = {
  float: 'float',
  int: 'int',
  string: 'string',
  tensor: 'tensor',
  graph: 'graph',
  'sparse-tensor': 'sparse_tensor',
  type: 'type',
  floats: 'floats',
  ints: 'ints',
  strings: 'strings',
  tensors: 'tensors',
  graphs: 'graphs',
  'sparse-tensors': 'sparse_tensors',
  types: 'types',
};

export const ATTRIBUTE_KIND_BY_SPELLING: ReadonlyMap<string, AttributeKind> = new Map(
  Object.entries(ATTRIBUTE_KIND_SPELLING).map(([kind, spelling]) => [spelling, kind as AttributeKind]),
);

/** The element kind of each list attribute kind. */
export const LIST_ELEMENT_KIND = {
  floats: 'float',
  ints: 'int',
  strings: 'string',
  tensors: 'tensor',
  graphs: 'graph',
  'sparse-tensors': 'sparse-tensor',
  types: 'type',
} as const satisfies Partial<Record<AttributeKind, AttributeKind>>;

export type ListAttributeKind = keyof typeof LIST_ELEMENT_KIND;

export function isListKind(kind: AttributeKind): kind is ListAttributeKind {
  return kind in LIST_ELEMENT_KIND;
}
