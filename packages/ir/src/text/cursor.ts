/**
 * A one-token-lookahead cursor over the `.mpir` lexer with the helpers every parse rule uses:
 * accept/expect punctuation and words, and errors located at a token.
 */
import type { ModelpassError } from '../diagnostic.js';
import { Lexer, type Token } from './lexer.js';

export class Cursor {
  private readonly lexer: Lexer;
  private lookahead: Token;

  constructor(text: string, file: string | undefined) {
    this.lexer = new Lexer(text, file);
    this.lookahead = this.lexer.next();
  }

  get file(): string | undefined {
    return this.lexer.file;
  }

  peek(): Token {
    return this.lookahead;
  }

  next(): Token {
    const token = this.lookahead;
    this.lookahead = this.lexer.next();
    return token;
  }

  isPunct(char: string): boolean {
    return this.lookahead.kind === 'punct' && this.lookahead.text === char;
  }

  isWord(word: string): boolean {
    return this.lookahead.kind === 'word' && this.lookahead.text === word;
  }

  acceptPunct(char: string): boolean {
    if (!this.isPunct(char)) return false;
    this.next();
    return true;
  }

  acceptWord(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.next();
    return true;
  }

  /** Consumes `char` or fails with `expected '<char>' <context>`. */
  expectPunct(char: string, context: string): Token {
    if (!this.isPunct(char)) throw this.errorAt(this.lookahead, `expected '${char}' ${context}`, { actual: describeToken(this.lookahead) });
    return this.next();
  }

  expectWord(word: string, context: string): Token {
    if (!this.isWord(word)) throw this.errorAt(this.lookahead, `expected '${word}' ${context}`, { actual: describeToken(this.lookahead) });
    return this.next();
  }

  expectKind(kind: Token['kind'], what: string, context: string): Token {
    if (this.lookahead.kind !== kind) throw this.errorAt(this.lookahead, `expected ${what} ${context}`, { actual: describeToken(this.lookahead) });
    return this.next();
  }

  expectString(context: string): string {
    return this.expectKind('string', 'a string', context).text;
  }

  /** An integer literal (a safe integer). */
  expectInteger(context: string): number {
    const token = this.lookahead;
    if (token.kind !== 'number' || token.isFloat) throw this.errorAt(token, `expected an integer ${context}`, { actual: describeToken(token) });
    this.next();
    const value = Number(token.text);
    if (!Number.isSafeInteger(value)) throw this.errorAt(token, `integer ${token.text} is too large ${context}`, { expected: 'at most 2^53 - 1' });
    return value;
  }

  /** Any numeric literal as a double: `3`, `-0.5`, `1e-3`, `inf`, `-inf`, `nan`. */
  expectNumber(context: string): number {
    const token = this.lookahead;
    const value = numericValue(token);
    if (value === undefined) throw this.errorAt(token, `expected a number ${context}`, { actual: describeToken(token) });
    this.next();
    return value;
  }

  /** `key=` inside a header or literal; returns the key token. */
  expectKeyEquals(key: string, context: string): void {
    this.expectWord(key, context);
    this.expectPunct('=', `after '${key}'`);
  }

  errorAt(token: Token, reason: string, extra: { expected?: string; actual?: string; hint?: string } = {}): ModelpassError {
    return this.lexer.error(reason, token.line, token.column, extra);
  }
}

/** The value of a numeric token (`inf` and `nan` may also come as bare words), or undefined. */
export function numericValue(token: Token): number | undefined {
  if (token.kind === 'number') {
    const text = token.text.startsWith('-') ? token.text.slice(1) : token.text;
    const sign = token.text.startsWith('-') ? -1 : 1;
    if (text === 'inf') return sign * Infinity;
    if (text === 'nan') return NaN;
    return Number(token.text);
  }
  if (token.kind === 'word' && (token.text === 'inf' || token.text === 'nan')) return token.text === 'inf' ? Infinity : NaN;
  return undefined;
}

export function isNumericToken(token: Token): boolean {
  return token.kind === 'number' || (token.kind === 'word' && (token.text === 'inf' || token.text === 'nan'));
}

/** How a token reads in an error message. */
export function describeToken(token: Token): string {
  switch (token.kind) {
    case 'eof':
      return 'end of input';
    case 'string':
      return token.text.length > 40 ? `string "${token.text.slice(0, 40)}…"` : `string ${JSON.stringify(token.text)}`;
    case 'value':
      return `'%${token.text}'`;
    case 'symbol':
      return `'@${token.text}'`;
    default:
      return `'${token.text}'`;
  }
}
