/**
 * The `.mpir` tokenizer: an on-demand scanner over the text (no token array), tracking line and
 * column for located errors. Whitespace and `// comments` separate tokens; newlines carry no meaning.
 */
import { ModelpassError } from '../diagnostic.js';
import { isNamePart, isWordPart, isWordStart } from './syntax.js';

export type TokenKind = 'word' | 'value' | 'symbol' | 'string' | 'number' | 'punct' | 'eof';

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

const PUNCTUATION = new Set(['(', ')', '{', '}', '[', ']', '<', '>', ',', '=', ':', '?', '*']);

export class Lexer {
  private position = 0;
  private line = 1;
  private lineStart = 0;

  constructor(
    private readonly text: string,
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

  next(): Token {
    this.skipTrivia();
    const text = this.text;
    const start = this.position;
    const line = this.line;
    const column = start - this.lineStart + 1;
    if (start >= text.length) return { kind: 'eof', text: '', isFloat: false, offset: start, line, column };
    const code = text.charCodeAt(start);
    const char = text[start]!;
    const token = (kind: TokenKind, value: string, isFloat = false): Token => ({ kind, text: value, isFloat, offset: start, line, column });

    if (code === 37 /* % */ || code === 64 /* @ */) {
      this.position++;
      const name = this.name(line, column);
      return token(code === 37 ? 'value' : 'symbol', name);
    }
    if (code === 34 /* " */) return token('string', this.string(line, column));
    if ((code >= 48 && code <= 57) || (code === 45 /* - */ && this.startsNumberAfterMinus(start + 1))) {
      const { spelling, isFloat } = this.number();
      return token('number', spelling, isFloat);
    }
    if (isWordStart(code)) {
      let end = start + 1;
      while (end < text.length && isWordPart(text.charCodeAt(end))) end++;
      this.position = end;
      return token('word', text.slice(start, end));
    }
    if (PUNCTUATION.has(char)) {
      this.position++;
      return token('punct', char);
    }
    throw this.error(`unexpected character ${JSON.stringify(char)}`, line, column);
  }

  private skipTrivia(): void {
    const text = this.text;
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
    const code = this.text.charCodeAt(at);
    return (code >= 48 && code <= 57) || this.text.startsWith('inf', at) || this.text.startsWith('nan', at);
  }

  private number(): { spelling: string; isFloat: boolean } {
    const text = this.text;
    const start = this.position;
    let i = start;
    if (text.charCodeAt(i) === 45) i++;
    if (text.startsWith('inf', i) || text.startsWith('nan', i)) {
      this.position = i + 3;
      return { spelling: text.slice(start, i + 3), isFloat: true };
    }
    let isFloat = false;
    const digits = () => {
      while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
    };
    digits();
    if (text.charCodeAt(i) === 46 /* . */) {
      isFloat = true;
      i++;
      digits();
    }
    const e = text.charCodeAt(i);
    if (e === 101 || e === 69) {
      let j = i + 1;
      const sign = text.charCodeAt(j);
      if (sign === 43 || sign === 45) j++;
      const d = text.charCodeAt(j);
      if (d >= 48 && d <= 57) {
        isFloat = true;
        i = j;
        digits();
      }
    }
    this.position = i;
    return { spelling: text.slice(start, i), isFloat };
  }

  /** A name after `%` or `@`: bare name characters or a quoted string. */
  private name(line: number, column: number): string {
    const text = this.text;
    if (text.charCodeAt(this.position) === 34) return this.string(line, column);
    const start = this.position;
    let end = start;
    while (end < text.length && isNamePart(text.charCodeAt(end))) end++;
    if (end === start) throw this.error(`expected a name after '${text[start - 1]}'`, line, column);
    this.position = end;
    return text.slice(start, end);
  }

  /** A double-quoted string with escapes; the position is on the opening quote. */
  private string(line: number, column: number): string {
    const text = this.text;
    let i = this.position + 1;
    let out = '';
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
    return out + text.slice(plainFrom, i);
  }
}
