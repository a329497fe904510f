/**
 * Tokenizer for the Python subset TorchScript prints in an archive's `code/` records: names,
 * numbers, strings, operators, and Python's indentation as INDENT/DEDENT tokens (no newlines
 * inside brackets). Every token carries its line and column for diagnostics.
 */
import { torchscriptError } from '../errors.js';

export type TokenKind = 'name' | 'int' | 'float' | 'string' | 'op' | 'newline' | 'indent' | 'dedent' | 'end';

export interface Token {
  kind: TokenKind;
  text: string;
  line: number;
  column: number;
}

const OPERATORS = [
  '**=', '//=', '>>=', '<<=', '->', '**', '//', '==', '!=', '<=', '>=', '<<', '>>', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=',
  '+', '-', '*', '/', '%', '<', '>', '=', '(', ')', '[', ']', '{', '}', ',', ':', '.', ';', '@', '&', '|', '^', '~',
];
const OPENERS = new Set(['(', '[', '{']);
const CLOSERS = new Set([')', ']', '}']);
const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };

/** Splits one source file into tokens; `file` names it in errors. */
export function tokenize(source: string, file: string): Token[] {
  const tokens: Token[] = [];
  const indents = [0];
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  let atLineStart = true;
  let i = 0;
  const fail = (reason: string, column: number): never => {
    throw torchscriptError({ reason: `${reason} in TorchScript source`, location: { file, line, column }, code: 'torchscript/syntax' });
  };
  while (i < source.length) {
    if (atLineStart && depth === 0) {
      let width = 0;
      while (source[i] === ' ' || source[i] === '\t') {
        width += source[i] === '\t' ? 8 - (width % 8) : 1;
        i++;
      }
      const c = source[i];
      if (c === '\n' || c === '\r' || c === '#' || c === undefined) {
        while (i < source.length && source[i] !== '\n') i++;
        if (source[i] === '\n') {
          i++;
          line++;
          lineStart = i;
        }
        continue;
      }
      atLineStart = false;
      const column = i - lineStart + 1;
      if (width > indents[indents.length - 1]!) {
        indents.push(width);
        tokens.push({ kind: 'indent', text: '', line, column });
      } else {
        while (width < indents[indents.length - 1]!) {
          indents.pop();
          tokens.push({ kind: 'dedent', text: '', line, column });
        }
        if (width !== indents[indents.length - 1]) fail('inconsistent indentation', column);
      }
    }
    const c = source[i]!;
    const column = i - lineStart + 1;
    if (c === '\n') {
      if (depth === 0) {
        tokens.push({ kind: 'newline', text: '', line, column });
        atLineStart = true;
      }
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '\\' && source[i + 1] === '\n') {
      i += 2;
      line++;
      lineStart = i;
      continue;
    }
    if (c === '#') {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < source.length && /[A-Za-z0-9_]/.test(source[j]!)) j++;
      tokens.push({ kind: 'name', text: source.slice(i, j), line, column });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(source[i + 1] ?? ''))) {
      const match = /^(?:0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)/.exec(source.slice(i, i + 64));
      const text = match![0];
      const isFloat = !/^0[xXbBoO]/.test(text) && /[.eE]/.test(text);
      tokens.push({ kind: isFloat ? 'float' : 'int', text, line, column });
      i += text.length;
      continue;
    }
    if (c === '"' || c === "'") {
      const triple = source.startsWith(c.repeat(3), i);
      const quote = triple ? c.repeat(3) : c;
      let j = i + quote.length;
      let text = '';
      for (;;) {
        if (j >= source.length) fail('unterminated string', column);
        if (source.startsWith(quote, j)) break;
        const ch = source[j]!;
        if (ch === '\n') {
          if (!triple) fail('unterminated string', column);
          line++;
          lineStart = j + 1;
        }
        if (ch === '\\') {
          const next = source[j + 1] ?? '';
          if (next === 'x' || next === 'u') {
            const digits = next === 'x' ? 2 : 4;
            const hex = source.slice(j + 2, j + 2 + digits);
            if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== digits) fail(`bad \\${next} escape`, j - lineStart + 1);
            text += String.fromCharCode(parseInt(hex, 16));
            j += 2 + digits;
            continue;
          }
          const escaped = ESCAPES[next];
          text += escaped ?? `\\${next}`;
          j += 2;
          continue;
        }
        text += ch;
        j++;
      }
      tokens.push({ kind: 'string', text, line, column });
      i = j + quote.length;
      continue;
    }
    const op = OPERATORS.find((candidate) => source.startsWith(candidate, i));
    if (!op) fail(`unexpected character ${JSON.stringify(c)}`, column);
    if (OPENERS.has(op!)) depth++;
    if (CLOSERS.has(op!)) {
      if (depth === 0) fail(`unbalanced '${op}'`, column);
      depth--;
    }
    tokens.push({ kind: 'op', text: op!, line, column });
    i += op!.length;
  }
  if (depth !== 0) fail('unclosed bracket at end of file', 1);
  if (!atLineStart) tokens.push({ kind: 'newline', text: '', line, column: i - lineStart + 1 });
  while (indents.length > 1) {
    indents.pop();
    tokens.push({ kind: 'dedent', text: '', line, column: 1 });
  }
  tokens.push({ kind: 'end', text: '', line, column: 1 });
  return tokens;
}
