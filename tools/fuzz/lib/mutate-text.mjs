/**
 * Token-level text mutation for the .mpir and pipeline grammars: the text is cut into tokens
 * (names, numbers, strings, punctuation, whitespace) and tokens are replaced, dropped, repeated,
 * swapped with tokens of another seed, or wrapped in deep nesting. Replacement tokens come from a
 * per-grammar dictionary plus hostile ones (huge and odd numbers, unicode, lone surrogates, NUL).
 */

const TOKEN = /"(?:[^"\\\n]|\\.)*"?|-?\d[\w.+-]*|[A-Za-z_%@!#$^][\w.$-]*|\s+|./gsu;

export function tokenize(text) {
  return text.match(TOKEN) ?? [];
}

const HOSTILE = [
  '1e309', '-1e309', '1e-400', '9007199254740993', '-9223372036854775809', '18446744073709551616', '0x7fffffff', '0x', '1.', '.5', '-0', 'NaN',
  'nan', 'inf', '-inf', 'Infinity', '1_000', '00000000000000000000000000000001', '999999999999999999999999999999999999', '2147483648', '-2147483649',
  '"', '"\\', '"\\u', '"\\uD800"', '"\\u0000"', '""', '"\\x41"', '\u0000', '\ufeff', '\u202e', '𝔘', 'é', '\ud800', '\udfff', '\r', '\r\n', '\t',
  '__proto__', 'constructor', 'prototype', 'hasOwnProperty', '', ' ', '#', '//', '/*', '%', '%0', '%-1', '@', '!', '?', '<', '>', 'x', '->',
];

function nestingRun(rng, open, close) {
  const depth = rng.weighted([[4, rng.range(2, 20)], [2, rng.range(100, 2000)], [1, rng.range(5000, 50000)]]);
  return open.repeat(depth) + (rng.chance(0.7) ? close.repeat(depth) : '');
}

const MAX_GROWTH = 1024 * 1024;
const MAX_TEXT = 4 * 1024 * 1024;

/** Joins tokens, stopping at ~4 MiB of text (the generated-input cap, applied before the join). */
function joinCapped(tokens) {
  let total = 0;
  let end = 0;
  while (end < tokens.length && total + tokens[end].length <= MAX_TEXT) total += tokens[end++].length;
  return tokens.slice(0, end).join('');
}

/** Mutates `text`; `dictionary` holds tokens of the grammar, `other` is a second seed to splice. */
export function mutateText(rng, text, dictionary, other) {
  let tokens = tokenize(text);
  const rounds = rng.weighted([[6, 1], [3, 2], [1, 5]]);
  for (let r = 0; r < rounds; r++) {
    const at = rng.below(tokens.length + 1);
    const action = rng.weighted([[5, 'replace'], [3, 'delete'], [2, 'insert'], [1, 'repeat'], [1, 'nest'], [1, 'splice'], [1, 'swap'], [1, 'chars']]);
    switch (action) {
      case 'replace':
        if (tokens.length) tokens[Math.min(at, tokens.length - 1)] = rng.chance(0.6) ? rng.pick(dictionary) : rng.pick(HOSTILE);
        break;
      case 'delete':
        tokens.splice(at, rng.smallSize(8) + 1);
        break;
      case 'insert':
        tokens.splice(at, 0, rng.chance(0.6) ? rng.pick(dictionary) : rng.pick(HOSTILE));
        break;
      case 'repeat': {
        const n = rng.smallSize(12) + 1;
        const run = tokens.slice(at, at + n);
        const runLength = run.reduce((n, t) => n + t.length, 0) || 1;
        // At most ~1 MiB of copies: repeating a long hex tensor token 3000 times is no test.
        const copies = Math.min(rng.chance(0.1) ? rng.range(100, 3000) : rng.range(1, 4), Math.max(1, Math.floor(MAX_GROWTH / runLength)));
        for (let i = 0; i < copies; i++) tokens.splice(at, 0, ...run);
        break;
      }
      case 'nest': {
        const [open, close] = rng.pick([['(', ')'], ['[', ']'], ['{', '}'], ['<', '>'], ['"', '"']]);
        tokens.splice(at, 0, nestingRun(rng, open, close));
        break;
      }
      case 'splice':
        if (other) {
          const theirs = tokenize(other);
          const from = rng.below(theirs.length + 1);
          tokens.splice(at, rng.smallSize(16), ...theirs.slice(from, from + rng.smallSize(64) + 1));
        }
        break;
      case 'swap':
        if (tokens.length > 1) {
          const j = rng.below(tokens.length);
          const i = Math.min(at, tokens.length - 1);
          [tokens[i], tokens[j]] = [tokens[j], tokens[i]];
        }
        break;
      case 'chars': {
        // A character-level edit inside one token.
        if (!tokens.length) break;
        const i = Math.min(at, tokens.length - 1);
        const t = tokens[i];
        const c = rng.below(t.length + 1);
        tokens[i] = t.slice(0, c) + String.fromCharCode(rng.chance(0.8) ? rng.range(0x20, 0x7e) : rng.below(0x10000)) + t.slice(c + (rng.chance(0.5) ? 1 : 0));
        break;
      }
    }
    if (tokens.length > 200000) tokens = tokens.slice(0, 200000);
  }
  return joinCapped(tokens);
}
