import { ModelpassError } from '@modelpass/ir';
import type { ListValueAst, OptionAst, OptionValueAst, PipelineAst, PipelineElementAst, ScalarValueAst } from './ast.js';

/**
 * Phase 1 of pipeline parsing: text → structure, no names resolved. The grammar (MLIR's):
 *
 * ```
 * pipeline := element (',' element)*            (may be empty)
 * element  := name options? ('(' pipeline ')')?
 * options  := '{' (key '=' value)* '}'          (separated by spaces)
 * value    := scalar | '[' scalar (',' scalar)* ']'
 * scalar   := bare | '"' chars with \" \\ \n \t \r \uXXXX escapes '"'
 * ```
 * Whitespace is allowed around punctuation.
 */

const NAME_CHAR = /[A-Za-z0-9_.-]/;
const BARE_CHAR = /[^\s{}[\](),="'\\]/;

/** A pipeline syntax or resolution error at `column` (1-based) of the one-line pipeline text. */
export function pipelineError(
  text: string | undefined,
  column: number | undefined,
  reason: string,
  extra: { suggestion?: string; suggestions?: string[]; expected?: string; actual?: string; hint?: string; code?: string; cause?: unknown } = {},
): ModelpassError {
  const notes: string[] = [];
  const didYouMean =
    extra.suggestions !== undefined && extra.suggestions.length > 1
      ? `did you mean one of ${extra.suggestions.map((name) => `'${name}'`).join(', ')}?`
      : extra.suggestion !== undefined
        ? `did you mean '${extra.suggestion}'?`
        : undefined;
  if (text !== undefined && column !== undefined) notes.push(pipelineExcerpt(text, column));
  const error = new ModelpassError({
    reason,
    ...(column !== undefined ? { location: { line: 1, column } } : {}),
    source: '@modelpass/pass-manager',
    code: extra.code ?? 'pipeline/syntax',
    ...(extra.expected !== undefined ? { expected: extra.expected } : {}),
    ...(extra.actual !== undefined ? { actual: extra.actual } : {}),
    ...(didYouMean !== undefined ? { hint: didYouMean } : extra.hint !== undefined ? { hint: extra.hint } : {}),
    ...(extra.cause !== undefined ? { cause: extra.cause } : {}),
    notes,
  });
  let message = reason + (column !== undefined ? ` at 1:${column}` : '');
  if (didYouMean !== undefined) message += ` — ${didYouMean}`;
  else if (extra.hint !== undefined) message += ` (${extra.hint})`;
  if (notes.length) message += '\n' + notes[0]!.split('\n').map((line) => '  ' + line).join('\n');
  error.message = message;
  return error;
}

/** The widest excerpt of the pipeline text an error shows; longer text is cut around the column. */
export const PIPELINE_EXCERPT_WIDTH = 100;

/**
 * The pipeline text with a caret under `column` (1-based). Text longer than
 * `PIPELINE_EXCERPT_WIDTH` is shown as a window around the column with '…' where it was cut, so a
 * generated 80 KB pipeline does not print 80 KB (and a 80 KB run of spaces) per error.
 */
export function pipelineExcerpt(text: string, column: number, width = PIPELINE_EXCERPT_WIDTH): string {
  const index = Math.max(0, column - 1);
  if (text.length <= width) return `${text}\n${' '.repeat(index)}^`;
  const start = Math.max(0, Math.min(index - Math.floor(width / 2), text.length - width));
  const end = Math.min(text.length, start + width);
  const before = start > 0 ? '…' : '';
  const after = end < text.length ? '…' : '';
  return `${before}${text.slice(start, end)}${after}\n${' '.repeat(before.length + index - start)}^`;
}

class PipelineLexer {
  position = 0;
  /** Nested pipelines open at the current position. */
  depth = 0;

  constructor(
    readonly text: string,
    readonly maxNesting: number,
  ) {}

  get column(): number {
    return this.position + 1;
  }

  peek(): string | undefined {
    return this.text[this.position];
  }

  atEnd(): boolean {
    return this.position >= this.text.length;
  }

  skipSpace(): void {
    while (!this.atEnd() && /\s/.test(this.text[this.position]!)) this.position++;
  }

  fail(reason: string, column = this.column, extra: Parameters<typeof pipelineError>[3] = {}): never {
    throw pipelineError(this.text, column, reason, extra);
  }

  describeHere(): string {
    return this.atEnd() ? 'the end of the pipeline' : `'${this.peek()}'`;
  }

  expect(char: string, what: string): void {
    this.skipSpace();
    if (this.peek() !== char) this.fail(`expected ${what}, found ${this.describeHere()}`);
    this.position++;
  }

  word(pattern: RegExp): string {
    const start = this.position;
    while (!this.atEnd() && pattern.test(this.text[this.position]!)) this.position++;
    return this.text.slice(start, this.position);
  }
}

export interface PipelineSyntaxOptions {
  /** The deepest nesting of anchors (`repeat{…}(repeat{…}(…))`) accepted (default 32). */
  readonly maxNesting?: number;
}

/** Deeper than any real pipeline; far below what would overflow the stack while parsing or running. */
export const DEFAULT_MAX_PIPELINE_NESTING = 32;

export function parsePipelineSyntax(text: string, options: PipelineSyntaxOptions = {}): PipelineAst {
  if (text.includes('\n')) {
    throw pipelineError(undefined, undefined, 'pipeline text must be one line', { actual: JSON.stringify(text) });
  }
  const maxNesting = options.maxNesting ?? DEFAULT_MAX_PIPELINE_NESTING;
  if (!Number.isInteger(maxNesting) || maxNesting < 1) {
    throw pipelineError(undefined, undefined, 'maxNesting must be a whole number ≥ 1', { actual: String(maxNesting), code: 'pipeline/bad-option' });
  }
  const lexer = new PipelineLexer(text, maxNesting);
  const ast = parsePipeline(lexer);
  lexer.skipSpace();
  if (!lexer.atEnd()) {
    const c = lexer.peek();
    if (c === ')') lexer.fail("unbalanced ')': no '(' is open");
    if (c === '}') lexer.fail("unbalanced '}': no '{' is open");
    lexer.fail(`expected ',' between passes, found ${lexer.describeHere()}`);
  }
  return ast;
}

function parsePipeline(lexer: PipelineLexer): PipelineAst {
  const elements: PipelineElementAst[] = [];
  lexer.skipSpace();
  if (lexer.atEnd() || lexer.peek() === ')') return { elements };
  for (;;) {
    elements.push(parseElement(lexer));
    lexer.skipSpace();
    if (lexer.peek() !== ',') return { elements };
    lexer.position++;
    lexer.skipSpace();
    if (lexer.atEnd() || lexer.peek() === ')' || lexer.peek() === ',') lexer.fail(`expected a pass name after ',', found ${lexer.describeHere()}`);
  }
}

function parseElement(lexer: PipelineLexer): PipelineElementAst {
  lexer.skipSpace();
  const column = lexer.column;
  const name = lexer.word(NAME_CHAR);
  if (name === '') lexer.fail(`expected a pass name, found ${lexer.describeHere()}`);
  lexer.skipSpace();
  let options: OptionAst[] = [];
  if (lexer.peek() === '{') options = parseOptions(lexer, name);
  lexer.skipSpace();
  let nested: PipelineAst | undefined;
  if (lexer.peek() === '(') {
    const openColumn = lexer.column;
    if (++lexer.depth > lexer.maxNesting) {
      lexer.fail(`pipelines nested more than ${lexer.maxNesting} levels deep`, openColumn, {
        code: 'pipeline/too-deep',
        hint: 'flatten the pipeline, or raise the limit with the maxNesting option',
      });
    }
    lexer.position++;
    nested = parsePipeline(lexer);
    lexer.depth--;
    lexer.skipSpace();
    if (lexer.peek() !== ')') {
      if (lexer.atEnd()) lexer.fail("unbalanced '(': it is never closed", openColumn);
      lexer.fail(`expected ',' or ')' in the nested pipeline of '${name}', found ${lexer.describeHere()}`);
    }
    lexer.position++;
  }
  return nested ? { name, column, options, nested } : { name, column, options };
}

function parseOptions(lexer: PipelineLexer, passName: string): OptionAst[] {
  const openColumn = lexer.column;
  lexer.position++; // '{'
  const options: OptionAst[] = [];
  for (;;) {
    lexer.skipSpace();
    if (lexer.atEnd()) lexer.fail(`unbalanced '{': the options of '${passName}' are never closed`, openColumn);
    if (lexer.peek() === '}') {
      lexer.position++;
      return options;
    }
    const column = lexer.column;
    const key = lexer.word(NAME_CHAR);
    if (key === '') lexer.fail(`expected an option name or '}' in the options of '${passName}', found ${lexer.describeHere()}`);
    lexer.skipSpace();
    if (lexer.peek() !== '=') lexer.fail(`expected '=' after option '${key}' of '${passName}', found ${lexer.describeHere()}`);
    lexer.position++;
    lexer.skipSpace();
    const value = parseValue(lexer, key);
    options.push({ key, value, column });
    const next = lexer.peek();
    if (next !== undefined && next !== '}' && !/\s/.test(next)) {
      let hint = '';
      if (next === ',' && value.kind !== 'list') {
        const nextIsOption = /^,\s*[A-Za-z0-9_.-]+\s*=/.test(lexer.text.slice(lexer.position));
        hint = nextIsOption
          ? ' (options are separated by spaces: {a=1 b=2})'
          : ` (quote a value that holds a comma: ${key}="a,b"; a list is written in brackets: ${key}=[a,b])`;
      }
      lexer.fail(`expected a space or '}' after the value of option '${key}', found ${lexer.describeHere()}${hint}`);
    }
  }
}

function parseValue(lexer: PipelineLexer, key: string): OptionValueAst {
  if (lexer.peek() === '[') return parseList(lexer, key);
  return parseScalar(lexer, key);
}

function parseList(lexer: PipelineLexer, key: string): ListValueAst {
  const column = lexer.column;
  lexer.position++;
  const items: ScalarValueAst[] = [];
  lexer.skipSpace();
  if (lexer.peek() === ']') {
    lexer.position++;
    return { kind: 'list', items, column };
  }
  for (;;) {
    lexer.skipSpace();
    if (lexer.peek() === '[') lexer.fail(`nested lists are not supported (option '${key}')`);
    items.push(parseScalar(lexer, key));
    lexer.skipSpace();
    const next = lexer.peek();
    if (next === ',') {
      lexer.position++;
      continue;
    }
    if (next === ']') {
      lexer.position++;
      return { kind: 'list', items, column };
    }
    if (next === undefined) lexer.fail(`unbalanced '[': the list of option '${key}' is never closed`, column);
    lexer.fail(`expected ',' or ']' in the list of option '${key}', found ${lexer.describeHere()}`);
  }
}

function parseScalar(lexer: PipelineLexer, key: string): ScalarValueAst {
  const column = lexer.column;
  if (lexer.peek() === '"') return { kind: 'scalar', text: parseQuoted(lexer, key), column };
  const text = lexer.word(BARE_CHAR);
  if (text === '') lexer.fail(`expected a value for option '${key}', found ${lexer.describeHere()}`, column, { hint: 'quote values that contain spaces or punctuation: key="a b"' });
  return { kind: 'scalar', text, column };
}

const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r' };

function parseQuoted(lexer: PipelineLexer, key: string): string {
  const start = lexer.column;
  lexer.position++;
  let text = '';
  for (;;) {
    const c = lexer.peek();
    if (c === undefined) lexer.fail(`unterminated string in option '${key}'`, start);
    lexer.position++;
    if (c === '"') return text;
    if (c !== '\\') {
      text += c;
      continue;
    }
    const escape = lexer.peek();
    const escapeColumn = lexer.column - 1;
    if (escape !== undefined && ESCAPES[escape] !== undefined) {
      text += ESCAPES[escape];
      lexer.position++;
    } else if (escape === 'u' && /^[0-9a-fA-F]{4}$/.test(lexer.text.slice(lexer.position + 1, lexer.position + 5))) {
      text += String.fromCharCode(parseInt(lexer.text.slice(lexer.position + 1, lexer.position + 5), 16));
      lexer.position += 5;
    } else {
      lexer.fail(`unknown escape '\\${escape ?? ''}' in a string`, escapeColumn, { expected: '\\" \\\\ \\n \\t \\r or \\uXXXX' });
    }
  }
}

// ---- printing ----------------------------------------------------------------------------------

/** A scalar as pipeline text: bare when it can be, quoted (with escapes) otherwise. */
export function printScalar(text: string): string {
  if (text.length > 0 && [...text].every((c) => BARE_CHAR.test(c))) return text;
  let quoted = '"';
  for (const c of text) {
    if (c === '"' || c === '\\') quoted += '\\' + c;
    else if (c === '\n') quoted += '\\n';
    else if (c === '\t') quoted += '\\t';
    else if (c === '\r') quoted += '\\r';
    else if (c.charCodeAt(0) < 0x20 || c === '\u2028' || c === '\u2029' || c.charCodeAt(0) === 0x7f) {
      quoted += '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
    } else quoted += c;
  }
  return quoted + '"';
}

export function printOptionValueAst(value: OptionValueAst): string {
  if (value.kind === 'scalar') return printScalar(value.text);
  return '[' + value.items.map((item) => printScalar(item.text)).join(',') + ']';
}

/** Canonical text of a pipeline's structure: `a,b{x=1 y=foo},repeat{times=2}(c,d)`. */
export function printPipelineAst(ast: PipelineAst): string {
  return ast.elements
    .map((element) => {
      let text = element.name;
      if (element.options.length > 0) {
        text += '{' + element.options.map((o) => `${o.key}=${printOptionValueAst(o.value)}`).join(' ') + '}';
      }
      if (element.nested) text += '(' + printPipelineAst(element.nested) + ')';
      return text;
    })
    .join(',');
}
