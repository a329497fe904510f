/**
 * The `.mpir` tokenizer: an on-demand scanner over the text (no token array), tracking line and
 * column for located errors. Whitespace and `// comments` separate tokens; newlines carry no meaning.
 */
import { ModelpassError } from '../diagnostic.js';
import { isNamePart, isWordPart, isWordStart } from './syntax.js';

export type TokenKind = 'word' | 'value' | 'symbol' | 'string' | 'number' | 'punct' | 'eof';

export interface LexerMark {
  readonly position: number;
  readonly line: number;
  readonly lineStart: number;
  readonly kind: TokenKind;
  readonly text: string;
  readonly isFloat: boolean;
  readonly offset: number;
  readonly tokenLine: number;
  readonly tokenColumn: number;
}

export interface Token {
  readonly kind: TokenKind;
  /** The word, the punctuation character, the number's spelling, or the decoded string / name. */
  readonly text: string;
  /** For numbers: written with a fraction, an exponent, or as inf/nan. */
  readonly isFloat: boolean;
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

const RECENT_SLOTS = 4096;

/** Punctuation characters by code: `( ) { } [ ] < > , = : ? *`. */
const IS_PUNCTUATION = new Uint8Array(128);
for (const char of '(){}[]<>,=:?*') IS_PUNCTUATION[char.charCodeAt(0)] = 1;

/**
 * The scanner keeps the current token in its own fields (`kind`, `text`, …) rather than allocating
 * an object per token; `token()` makes one when a parse rule needs to keep it.
 */
export class Lexer {
  private position = 0;
  private line = 1;
  private lineStart = 0;

  /** The current token (valid after `advance`). */
  kind: TokenKind = 'eof';
  text = '';
  isFloat = false;
  offset = 0;
  tokenLine = 1;
  tokenColumn = 1;

  constructor(
    private readonly source: string,
    readonly file: string | undefined,
  ) {}

  error(reason: string, line: number, column: number, extra: { expected?: string; actual?: string; hint?: string } = {}): ModelpassError {
    return new ModelpassError({
      reason,
      location: { ...(this.file !== undefined ? { file: this.file } : {}), line, column },
      code: 'mpir/syntax',
      source: '@modelpass/ir',
      ...extra,
    });
  }

  /**
   * Recently scanned words, names and plain strings by a hash of their characters: a spelling met
   * again (keywords, dtypes, op names, a value name at its use, a repeated file name) reuses the
   * string already made instead of allocating a copy, and maps keyed by it find it faster.
   */
  private readonly recent: (string | undefined)[] = new Array<string | undefined>(RECENT_SLOTS).fill(undefined);

  private intern(start: number, end: number, hash: number): string {
    const slot = hash & (RECENT_SLOTS - 1);
    const known = this.recent[slot];
    if (known !== undefined && known.length === end - start && this.source.startsWith(known, start)) return known;
    const text = this.source.slice(start, end);
    this.recent[slot] = text;
    return text;
  }

  /** The current token as an object. */
  token(): Token {
    return { kind: this.kind, text: this.text, isFloat: this.isFloat, offset: this.offset, line: this.tokenLine, column: this.tokenColumn };
  }

  /** Scanner state, to read a stretch again (see `rewind`). */
  mark(): LexerMark {
    return {
      position: this.position,
      line: this.line,
      lineStart: this.lineStart,
      kind: this.kind,
      text: this.text,
      isFloat: this.isFloat,
      offset: this.offset,
      tokenLine: this.tokenLine,
      tokenColumn: this.tokenColumn,
    };
  }

  rewind(mark: LexerMark): void {
    this.position = mark.position;
    this.line = mark.line;
    this.lineStart = mark.lineStart;
    this.kind = mark.kind;
    this.text = mark.text;
    this.isFloat = mark.isFloat;
    this.offset = mark.offset;
    this.tokenLine = mark.tokenLine;
    this.tokenColumn = mark.tokenColumn;
  }

  /** Scans the next token into the fields. */
  advance(): void {
    this.skipTrivia();
    const text = this.source;
    const start = this.position;
    this.offset = start;
    this.tokenLine = this.line;
    const column = start - this.lineStart + 1;
    this.tokenColumn = column;
    this.isFloat = false;
    if (start >= text.length) {
      this.kind = 'eof';
      this.text = '';
      return;
    }
    const code = text.charCodeAt(start);
    if (code === 37 /* % */ || code === 64 /* @ */) {
      this.position++;
      const name = this.name(this.tokenLine, column);
      this.kind = code === 37 ? 'value' : 'symbol';
      this.text = name;
      return;
    }
    if (code === 34 /* " */) {
      const line = this.tokenLine;
      this.text = this.string(line, column);
      this.kind = 'string';
      return;
    }
    if ((code >= 48 && code <= 57) || (code === 45 /* - */ && this.startsNumberAfterMinus(start + 1))) {
      this.number();
      this.kind = 'number';
      return;
    }
    if (isWordStart(code)) {
      let end = start + 1;
      let hash = code;
      for (let c = text.charCodeAt(end); end < text.length && isWordPart(c); c = text.charCodeAt(++end)) hash = (Math.imul(hash, 31) + c) | 0;
      this.position = end;
      this.kind = 'word';
      this.text = this.intern(start, end, hash);
      return;
    }
    if (code < 128 && IS_PUNCTUATION[code] === 1) {
      this.position++;
      this.kind = 'punct';
      this.text = text[start]!;
      return;
    }
    throw this.error(`unexpected character ${JSON.stringify(text[start]!)}`, this.tokenLine, column);
  }

  /** Scans and returns the next token as an object. */
  next(): Token {
    this.advance();
    return this.token();
  }

  private skipTrivia(): void {
    const text = this.source;
    let i = this.position;
    for (;;) {
      const code = text.charCodeAt(i);
      if (code === 10) {
        i++;
        this.line++;
        this.lineStart = i;
      } else if (code === 32 || code === 9 || code === 13) {
        i++;
      } else if (code === 47 && text.charCodeAt(i + 1) === 47) {
        while (i < text.length && text.charCodeAt(i) !== 10) i++;
      } else break;
    }
    this.position = i;
  }

  private startsNumberAfterMinus(at: number): boolean {
    const code = this.source.charCodeAt(at);
    return (code >= 48 && code <= 57) || this.source.startsWith('inf', at) || this.source.startsWith('nan', at);
  }

  /** A number at the position into `text` (its spelling) and `isFloat`. */
  private number(): void {
    const text = this.source;
    const start = this.position;
    let i = start;
    if (text.charCodeAt(i) === 45) i++;
    if (text.startsWith('inf', i) || text.startsWith('nan', i)) {
      this.position = i + 3;
      this.text = text.slice(start, i + 3);
      this.isFloat = true;
      return;
    }
    let isFloat = false;
    let code = text.charCodeAt(i);
    while (code >= 48 && code <= 57) code = text.charCodeAt(++i);
    if (code === 46 /* . */) {
      isFloat = true;
      code = text.charCodeAt(++i);
      while (code >= 48 && code <= 57) code = text.charCodeAt(++i);
    }
    if (code === 101 || code === 69) {
      let j = i + 1;
      const sign = text.charCodeAt(j);
      if (sign === 43 || sign === 45) j++;
      const d = text.charCodeAt(j);
      if (d >= 48 && d <= 57) {
        isFloat = true;
        i = j;
        code = d;
        while (code >= 48 && code <= 57) code = text.charCodeAt(++i);
      }
    }
    this.position = i;
    this.text = text.slice(start, i);
    this.isFloat = isFloat;
  }

  /** A name after `%` or `@`: bare name characters or a quoted string. */
  private name(line: number, column: number): string {
    const text = this.source;
    if (text.charCodeAt(this.position) === 34) return this.string(line, column);
    const start = this.position;
    let end = start;
    let hash = 0;
    for (let c = text.charCodeAt(end); end < text.length && isNamePart(c); c = text.charCodeAt(++end)) hash = (Math.imul(hash, 31) + c) | 0;
    if (end === start) throw this.error(`expected a name after '${text[start - 1]}'`, line, column);
    this.position = end;
    return this.intern(start, end, hash);
  }

  /** A double-quoted string with escapes; the position is on the opening quote. */
  private string(line: number, column: number): string {
    const text = this.source;
    let i = this.position + 1;
    let out = '';
    let hash = 0;
    let plainFrom = i;
    for (;;) {
      if (i >= text.length) throw this.error('unterminated string', line, column, { expected: 'a closing \'"\'' });
      const code = text.charCodeAt(i);
      if (code === 34) break;
      if (code === 10) {
        this.line++;
        this.lineStart = i + 1;
      }
      if (code !== 92) {
        hash = (Math.imul(hash, 31) + code) | 0;
        i++;
        continue;
      }
      out += text.slice(plainFrom, i);
      const escape = text[i + 1];
      const escapeColumn = i - this.lineStart + 1;
      if (escape === '"' || escape === '\\') {
        out += escape;
        i += 2;
      } else if (escape === 'n' || escape === 't' || escape === 'r') {
        out += escape === 'n' ? '\n' : escape === 't' ? '\t' : '\r';
        i += 2;
      } else if (escape === 'u' && text[i + 2] === '{') {
        const close = text.indexOf('}', i + 3);
        const hex = close < 0 ? '' : text.slice(i + 3, close);
        if (!/^[0-9a-fA-F]{1,6}$/.test(hex) || Number.parseInt(hex, 16) > 0x10ffff) {
          throw this.error('bad \\u{...} escape in string', this.line, escapeColumn, { expected: '1 to 6 hex digits up to 10ffff' });
        }
        out += String.fromCodePoint(Number.parseInt(hex, 16));
        i = close + 1;
      } else {
        throw this.error(`unknown escape '\\${escape ?? ''}' in string`, this.line, escapeColumn, {
          expected: '\\" \\\\ \\n \\t \\r or \\u{hex}',
        });
      }
      plainFrom = i;
    }
    this.position = i + 1;
    return out === '' ? this.intern(plainFrom, i, hash) : out + text.slice(plainFrom, i);
  }
}
