/**
 * Recursive-descent parser for TorchScript source into the AST of `ast.ts`. It only builds a
 * tree: nothing is evaluated, imported or executed.
 */
import { torchscriptError } from '../errors.js';
import type { ClassDef, Expr, FunctionDef, Parameter, SourceFile, SourcePosition, Stmt } from './ast.js';
import { tokenize, type Token } from './tokenizer.js';

const COMPARISONS = new Set(['==', '!=', '<', '>', '<=', '>=', 'in', 'is']);
const AUGMENTED = new Set(['+=', '-=', '*=', '/=', '//=', '%=', '**=', '&=', '|=', '^=', '<<=', '>>=']);
/** Binary operator precedence, loosest first (below comparisons). */
const BINARY_LEVELS: readonly (readonly string[])[] = [['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '//', '%', '@']];

/**
 * Most expressions (brackets, calls, subscripts, unary operators) or blocks nested in one another:
 * CPython's parser stops at 200 nested parentheses too. Deeper source is refused at its location
 * instead of overflowing the stack (torch never writes code nested that deep).
 */
export const MAX_SOURCE_NESTING = 200;

/** Parses one `code/` record (its name is used in every diagnostic). */
export function parseTorchScript(source: string, file: string): SourceFile {
  return new Parser(tokenize(source, file), file).parseFile();
}

class Parser {
  private index = 0;
  private depth = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly file: string,
  ) {}

  parseFile(): SourceFile {
    const result: SourceFile = { file: this.file, classes: new Map(), functions: new Map(), statements: [] };
    while (this.peek().kind !== 'end') {
      const stmt = this.statement();
      if (stmt.kind === 'class') result.classes.set(stmt.def.name, stmt.def);
      else if (stmt.kind === 'def') result.functions.set(stmt.def.name, stmt.def);
      else if (stmt.kind !== 'import') result.statements.push(stmt);
    }
    return result;
  }

  // ---- tokens
  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)]!;
  }
  private next(): Token {
    const token = this.peek();
    if (this.index < this.tokens.length - 1) this.index++;
    return token;
  }
  private at(token: Token = this.peek()): SourcePosition {
    return { file: this.file, line: token.line, column: token.column };
  }
  private isOp(text: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'op' && token.text === text;
  }
  private isName(text: string): boolean {
    const token = this.peek();
    return token.kind === 'name' && token.text === text;
  }
  private accept(text: string): boolean {
    if (this.isOp(text) || this.isName(text)) {
      this.next();
      return true;
    }
    return false;
  }
  /** Runs `parse` one nesting level deeper, refusing source nested past MAX_SOURCE_NESTING. */
  private nested<T>(parse: () => T): T {
    if (this.depth >= MAX_SOURCE_NESTING) {
      const token = this.peek();
      throw torchscriptError({
        reason: `TorchScript source nests deeper than ${MAX_SOURCE_NESTING} levels (brackets, calls or blocks)`,
        location: { file: this.file, line: token.line, column: token.column },
        code: 'torchscript/syntax',
      });
    }
    this.depth++;
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  private fail(expected: string, token: Token = this.peek()): never {
    const actual = token.kind === 'end' ? 'end of file' : token.kind === 'newline' ? 'end of line' : token.kind === 'indent' || token.kind === 'dedent' ? 'a change of indentation' : `'${token.text}'`;
    throw torchscriptError({
      reason: `expected ${expected}, found ${actual} in TorchScript source`,
      location: { file: this.file, line: token.line, column: token.column },
      code: 'torchscript/syntax',
      expected,
      actual,
    });
  }
  private expect(text: string): Token {
    if (!this.isOp(text) && !this.isName(text)) this.fail(`'${text}'`);
    return this.next();
  }
  private expectName(): string {
    const token = this.peek();
    if (token.kind !== 'name') this.fail('a name');
    return this.next().text;
  }
  private endOfStatement(): void {
    if (this.accept(';') && this.peek().kind !== 'newline') return;
    if (this.peek().kind === 'end') return;
    if (this.peek().kind !== 'newline') this.fail('end of line');
    this.next();
  }

  // ---- statements
  private block(): Stmt[] {
    return this.nested(() => this.blockBody());
  }
  private blockBody(): Stmt[] {
    this.expect(':');
    if (this.peek().kind !== 'newline') {
      const single = this.simpleStatement();
      return [single];
    }
    this.next();
    if (this.peek().kind !== 'indent') this.fail('an indented block');
    this.next();
    const body: Stmt[] = [];
    while (this.peek().kind !== 'dedent' && this.peek().kind !== 'end') body.push(this.statement());
    if (this.peek().kind === 'dedent') this.next();
    return body;
  }

  private statement(): Stmt {
    const token = this.peek();
    if (token.kind === 'name') {
      switch (token.text) {
        case 'class':
          return { kind: 'class', def: this.classDef() };
        case 'def':
          return { kind: 'def', def: this.functionDef() };
        case 'if':
          return this.ifStatement();
        case 'for': {
          this.next();
          const target = this.targetList();
          this.expect('in');
          const iterable = this.expressionList();
          return { kind: 'for', target, iterable, body: this.block(), at: this.at(token) };
        }
        case 'while': {
          this.next();
          const condition = this.expression();
          return { kind: 'while', condition, body: this.block(), at: this.at(token) };
        }
      }
    }
    return this.simpleStatement();
  }

  private ifStatement(): Stmt {
    const token = this.next(); // 'if' or 'elif'
    const condition = this.expression();
    const body = this.block();
    let orelse: Stmt[] = [];
    if (this.isName('elif')) orelse = [this.ifStatement()];
    else if (this.isName('else')) {
      this.next();
      orelse = this.block();
    }
    return { kind: 'if', condition, body, orelse, at: this.at(token) };
  }

  private simpleStatement(): Stmt {
    const token = this.peek();
    const at = this.at(token);
    let stmt: Stmt;
    if (token.kind === 'name' && ['pass', 'break', 'continue'].includes(token.text)) {
      this.next();
      stmt = { kind: token.text as 'pass' | 'break' | 'continue', at };
    } else if (token.kind === 'name' && token.text === 'return') {
      this.next();
      stmt = { kind: 'return', value: this.peek().kind === 'newline' || this.isOp(';') ? null : this.expressionList(), at };
    } else if (token.kind === 'name' && token.text === 'raise') {
      this.next();
      stmt = { kind: 'raise', value: this.peek().kind === 'newline' ? null : this.expression(), at };
    } else if (token.kind === 'name' && token.text === 'assert') {
      this.next();
      const condition = this.expression();
      stmt = { kind: 'assert', condition, message: this.accept(',') ? this.expression() : null, at };
    } else if (token.kind === 'name' && (token.text === 'import' || token.text === 'from')) {
      while (this.peek().kind !== 'newline' && this.peek().kind !== 'end') this.next();
      stmt = { kind: 'import', at };
    } else {
      const first = this.expressionList();
      if (this.isOp(':')) {
        this.next();
        const annotation = this.expression();
        const value = this.accept('=') ? this.expressionList() : null;
        stmt = { kind: 'annotated', target: first, annotation, value, at };
      } else if (this.peek().kind === 'op' && AUGMENTED.has(this.peek().text)) {
        const op = this.next().text.slice(0, -1);
        stmt = { kind: 'augassign', target: first, op, value: this.expressionList(), at };
      } else if (this.isOp('=')) {
        let targets = first;
        let value: Expr = first;
        while (this.accept('=')) {
          targets = value;
          value = this.expressionList();
        }
        stmt = { kind: 'assign', targets, value, at };
      } else stmt = { kind: 'expr', value: first, at };
    }
    this.endOfStatement();
    return stmt;
  }

  private classDef(): ClassDef {
    const token = this.expect('class');
    const name = this.expectName();
    const bases: Expr[] = [];
    if (this.accept('(')) {
      while (!this.isOp(')')) {
        bases.push(this.expression());
        if (!this.accept(',')) break;
      }
      this.expect(')');
    }
    const def: ClassDef = { name, bases, fields: [], methods: new Map(), at: this.at(token) };
    for (const stmt of this.block()) {
      if (stmt.kind === 'def') def.methods.set(stmt.def.name, stmt.def);
      else def.fields.push(stmt);
    }
    return def;
  }

  private functionDef(): FunctionDef {
    const token = this.expect('def');
    const name = this.expectName();
    this.expect('(');
    const params: Parameter[] = [];
    while (!this.isOp(')')) {
      this.accept('*');
      const paramName = this.expectName();
      const annotation = this.accept(':') ? this.expression() : null;
      const defaultValue = this.accept('=') ? this.expression() : null;
      params.push({ name: paramName, annotation, defaultValue });
      if (!this.accept(',')) break;
    }
    this.expect(')');
    const returns = this.accept('->') ? this.expression() : null;
    return { name, params, returns, body: this.block(), at: this.at(token) };
  }

  // ---- expressions
  /** `a, b` without brackets is a tuple (assignment targets, return values). */
  private expressionList(): Expr {
    const at = this.at();
    const first = this.expression();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.accept(',')) {
      if (this.endsList()) break;
      items.push(this.expression());
    }
    return { kind: 'tuple', items, at };
  }
  private targetList(): Expr {
    const at = this.at();
    const items = [this.postfix()];
    while (this.accept(',')) {
      if (this.isName('in')) break;
      items.push(this.postfix());
    }
    return items.length === 1 ? items[0]! : { kind: 'tuple', items, at };
  }
  private endsList(): boolean {
    const token = this.peek();
    return token.kind === 'newline' || token.kind === 'end' || (token.kind === 'op' && [')', ']', '}', '=', ':'].includes(token.text));
  }

  expression(): Expr {
    return this.nested(() => this.expressionBody());
  }
  private expressionBody(): Expr {
    const at = this.at();
    const value = this.orExpression();
    if (this.isName('if')) {
      this.next();
      const condition = this.orExpression();
      this.expect('else');
      const otherwise = this.expression();
      return { kind: 'ternary', condition, then: value, otherwise, at };
    }
    return value;
  }
  private orExpression(): Expr {
    let left = this.andExpression();
    while (this.isName('or')) {
      const at = this.at(this.next());
      left = { kind: 'binary', op: 'or', left, right: this.andExpression(), at };
    }
    return left;
  }
  private andExpression(): Expr {
    let left = this.notExpression();
    while (this.isName('and')) {
      const at = this.at(this.next());
      left = { kind: 'binary', op: 'and', left, right: this.notExpression(), at };
    }
    return left;
  }
  private notExpression(): Expr {
    if (this.isName('not')) {
      const at = this.at(this.next());
      return { kind: 'unary', op: 'not', operand: this.nested(() => this.notExpression()), at };
    }
    return this.comparison();
  }
  private comparison(): Expr {
    let left = this.binary(0);
    for (;;) {
      const token = this.peek();
      let op: string | undefined;
      if (token.kind === 'op' && COMPARISONS.has(token.text)) op = this.next().text;
      else if (token.kind === 'name' && (token.text === 'in' || token.text === 'is')) {
        this.next();
        op = token.text;
        if (op === 'is' && this.isName('not')) {
          this.next();
          op = 'is not';
        }
      } else if (token.kind === 'name' && token.text === 'not' && this.peek(1).kind === 'name' && this.peek(1).text === 'in') {
        this.next();
        this.next();
        op = 'not in';
      }
      if (op === undefined) return left;
      left = { kind: 'binary', op, left, right: this.binary(0), at: this.at(token) };
    }
  }
  private binary(level: number): Expr {
    if (level >= BINARY_LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const token = this.peek();
      if (token.kind !== 'op' || !BINARY_LEVELS[level]!.includes(token.text)) return left;
      this.next();
      left = { kind: 'binary', op: token.text, left, right: this.binary(level + 1), at: this.at(token) };
    }
  }
  private unary(): Expr {
    const token = this.peek();
    if (token.kind === 'op' && (token.text === '-' || token.text === '+' || token.text === '~')) {
      this.next();
      return { kind: 'unary', op: token.text, operand: this.nested(() => this.unary()), at: this.at(token) };
    }
    return this.power();
  }
  private power(): Expr {
    const base = this.postfix();
    if (this.isOp('**')) {
      const token = this.next();
      return { kind: 'binary', op: '**', left: base, right: this.nested(() => this.unary()), at: this.at(token) };
    }
    return base;
  }
  private postfix(): Expr {
    let value = this.atom();
    for (;;) {
      const token = this.peek();
      if (this.isOp('.')) {
        this.next();
        value = { kind: 'attribute', object: value, name: this.expectName(), at: this.at(token) };
      } else if (this.isOp('(')) {
        this.next();
        const args: Expr[] = [];
        const keywords: Array<{ name: string; value: Expr }> = [];
        while (!this.isOp(')')) {
          if (this.peek().kind === 'name' && this.isOp('=', 1)) {
            const name = this.next().text;
            this.next();
            keywords.push({ name, value: this.expression() });
          } else args.push(this.expression());
          if (!this.accept(',')) break;
        }
        this.expect(')');
        value = { kind: 'call', callee: value, args, keywords, at: this.at(token) };
      } else if (this.isOp('[')) {
        this.next();
        const index = this.subscriptIndex();
        this.expect(']');
        value = { kind: 'subscript', object: value, index, at: this.at(token) };
      } else return value;
    }
  }
  private subscriptIndex(): Expr {
    const at = this.at();
    const items: Expr[] = [];
    do {
      if (this.isOp(']')) break;
      items.push(this.sliceOrExpression());
    } while (this.accept(','));
    return items.length === 1 ? items[0]! : { kind: 'tuple', items, at };
  }
  private sliceOrExpression(): Expr {
    const at = this.at();
    const lower = this.isOp(':') ? null : this.expression();
    if (!this.isOp(':')) return lower!;
    this.next();
    const upper = this.isOp(':') || this.isOp(']') || this.isOp(',') ? null : this.expression();
    let step: Expr | null = null;
    if (this.accept(':')) step = this.isOp(']') || this.isOp(',') ? null : this.expression();
    return { kind: 'slice', lower, upper, step, at };
  }
  private atom(): Expr {
    const token = this.next();
    const at = this.at(token);
    switch (token.kind) {
      case 'name':
        return { kind: 'name', id: token.text, at };
      case 'int':
        return { kind: 'int', value: Number(token.text), at };
      case 'float':
        return { kind: 'float', value: Number(token.text), at };
      case 'string': {
        let value = token.text;
        while (this.peek().kind === 'string') value += this.next().text;
        return { kind: 'string', value, at };
      }
      case 'op':
        if (token.text === '(') return this.bracketed(')', 'tuple', at);
        if (token.text === '[') return this.bracketed(']', 'list', at);
        if (token.text === '{') return this.dictionary(at);
    }
    return this.fail('an expression', token);
  }
  private bracketed(close: string, kind: 'tuple' | 'list', at: SourcePosition): Expr {
    const items: Expr[] = [];
    let trailingComma = false;
    while (!this.isOp(close)) {
      items.push(this.expression());
      trailingComma = this.accept(',');
      if (!trailingComma) break;
    }
    this.expect(close);
    if (kind === 'tuple' && items.length === 1 && !trailingComma) return items[0]!;
    return { kind, items, at };
  }
  private dictionary(at: SourcePosition): Expr {
    const entries: Array<[Expr, Expr]> = [];
    while (!this.isOp('}')) {
      const key = this.expression();
      this.expect(':');
      entries.push([key, this.expression()]);
      if (!this.accept(',')) break;
    }
    this.expect('}');
    return { kind: 'dict', entries, at };
  }
}
