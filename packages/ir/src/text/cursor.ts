/**
 * A one-token-lookahead cursor over the `.mpir` lexer with the helpers every parse rule uses:
 * accept/expect punctuation and words, and errors located at a token.
 */
import type { ModelpassError } from '../diagnostic.js';
import type { TensorType } from '../type.js';
import type { FileReadPolicy } from './file-references.js';
import { Lexer, type LexerMark, type Token } from './lexer.js';

export class Cursor {
  private readonly lexer: Lexer;
  /** The lookahead as an object, made on demand (most tokens are only looked at, never kept). */
  private lookahead: Token | undefined;
  /** The tensor type read last: an equal one read next is shared rather than kept twice (types are read-only). */
  lastTensorType: TensorType | undefined;
  /** How deep subgraphs and types are nested at the lookahead. */
  private depth = 0;

  /**
   * @param fileReads where `file(...)` references resolve and which folders they may read
   * @param maxNesting the deepest nesting of subgraphs and types accepted
   */
  constructor(
    text: string,
    file: string | undefined,
    readonly fileReads: FileReadPolicy,
    readonly maxNesting: number,
  ) {
    this.lexer = new Lexer(text, file);
    this.lexer.advance();
  }

  /**
   * Enters a nested subgraph or type at `token`; past `maxNesting` levels that is a located error
   * (rather than a stack overflow here or in whatever walks the model next). Pair with `leave()`.
   */
  enter(token: Token, what: string): void {
    if (++this.depth > this.maxNesting) {
      throw this.errorAt(token, `${what} nested more than ${this.maxNesting} levels deep`, {
        hint: 'raise the limit with the maxNesting parse option if the model really nests this deep',
      });
    }
  }

  leave(): void {
    this.depth--;
  }

  get file(): string | undefined {
    return this.lexer.file;
  }

  /** Kind of the lookahead token, without making a token object. */
  get kind(): Token['kind'] {
    return this.lexer.kind;
  }

  /** Text of the lookahead token, without making a token object. */
  get text(): string {
    return this.lexer.text;
  }

  /** Whether the lookahead number token is written as a float. */
  get isFloat(): boolean {
    return this.lexer.isFloat;
  }

  peek(): Token {
    return (this.lookahead ??= this.lexer.token());
  }

  next(): Token {
    const token = this.peek();
    this.skip();
    return token;
  }

  /** Moves past the lookahead token. */
  skip(): void {
    this.lookahead = undefined;
    this.lexer.advance();
  }

  /** Scanner state, to read a stretch again with `rewind`. */
  mark(): LexerMark {
    return this.lexer.mark();
  }

  rewind(mark: LexerMark): void {
    this.lookahead = undefined;
    this.lexer.rewind(mark);
  }

  isPunct(char: string): boolean {
    return this.lexer.kind === 'punct' && this.lexer.text === char;
  }

  isWord(word: string): boolean {
    return this.lexer.kind === 'word' && this.lexer.text === word;
  }

  acceptPunct(char: string): boolean {
    if (!this.isPunct(char)) return false;
    this.skip();
    return true;
  }

  acceptWord(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.skip();
    return true;
  }

  /** Consumes `char` or fails with `expected '<char>' <context>`. */
  expectPunct(char: string, context: string): void {
    if (!this.isPunct(char)) throw this.errorAt(this.peek(), `expected '${char}' ${context}`, { actual: describeToken(this.peek()) });
    this.skip();
  }

  expectWord(word: string, context: string): void {
    if (!this.isWord(word)) throw this.errorAt(this.peek(), `expected '${word}' ${context}`, { actual: describeToken(this.peek()) });
    this.skip();
  }

  expectKind(kind: Token['kind'], what: string, context: string): Token {
    if (this.lexer.kind !== kind) throw this.errorAt(this.peek(), `expected ${what} ${context}`, { actual: describeToken(this.peek()) });
    return this.next();
  }

  /** The text of a token of `kind` (consumed), or the same error as `expectKind`. */
  expectKindText(kind: Token['kind'], what: string, context: string): string {
    if (this.lexer.kind !== kind) throw this.errorAt(this.peek(), `expected ${what} ${context}`, { actual: describeToken(this.peek()) });
    const text = this.lexer.text;
    this.skip();
    return text;
  }

  expectString(context: string): string {
    return this.expectKindText('string', 'a string', context);
  }

  /** An integer literal (a safe integer). */
  expectInteger(context: string): number {
    const lexer = this.lexer;
    if (lexer.kind !== 'number' || lexer.isFloat) throw this.errorAt(this.peek(), `expected an integer ${context}`, { actual: describeToken(this.peek()) });
    const value = Number(lexer.text);
    if (!Number.isSafeInteger(value)) throw this.errorAt(this.peek(), `integer ${lexer.text} is too large ${context}`, { expected: 'at most 2^53 - 1' });
    this.skip();
    return value;
  }

  /** Any numeric literal as a double: `3`, `-0.5`, `1e-3`, `inf`, `-inf`, `nan`. */
  expectNumber(context: string): number {
    const value = numericText(this.lexer.kind, this.lexer.text);
    if (value === undefined) throw this.errorAt(this.peek(), `expected a number ${context}`, { actual: describeToken(this.peek()) });
    this.skip();
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

/** The value of a numeric token given by kind and text (`inf` and `nan` may also come as bare words), or undefined. */
export function numericText(kind: Token['kind'], text: string): number | undefined {
  if (kind === 'number') {
    const negative = text.charCodeAt(0) === 45;
    const unsigned = negative ? text.slice(1) : text;
    if (unsigned === 'inf') return negative ? -Infinity : Infinity;
    if (unsigned === 'nan') return NaN;
    return Number(text);
  }
  if (kind === 'word' && (text === 'inf' || text === 'nan')) return text === 'inf' ? Infinity : NaN;
  return undefined;
}

/** The value of a numeric token (`inf` and `nan` may also come as bare words), or undefined. */
export function numericValue(token: Token): number | undefined {
  return numericText(token.kind, token.text);
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
