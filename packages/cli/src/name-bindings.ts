/**
 * Repeatable `NAME=VALUE` flags (`--input-shape`, `--input-dtype`, `--input-value`, `--dim`,
 * `--check-dim`): each value is split at its first `=`; what the value may be is the caller's.
 */
import { UsageError } from './usage-error.js';

export interface NameBindingSyntax {
  /** The flag, without dashes (`input-shape`). */
  readonly flag: string;
  /** The form in words for the error, e.g. `NAME=DIMS, e.g. x=batch,time,16`. */
  readonly expected: string;
  /** `NAME=` alone is allowed (an empty value: a scalar's shape). */
  readonly allowEmpty?: boolean;
}

/**
 * The values of a repeatable NAME=VALUE flag by name (value trimmed of surrounding spaces; a name
 * has no spaces). A malformed value, or a name given twice, is a usage error quoting it.
 */
export function parseNameBindings(values: readonly string[], syntax: NameBindingSyntax): Map<string, string> {
  const bindings = new Map<string, string>();
  for (const text of values) {
    const match = /^([^=\s]+)=(.*)$/s.exec(text.trim());
    if (!match || (!syntax.allowEmpty && match[2]!.trim() === '')) throw new UsageError(`--${syntax.flag} '${text}': expected ${syntax.expected}`);
    const [, name, value] = match;
    if (bindings.has(name!)) throw new UsageError(`--${syntax.flag} gives input '${name}' twice`);
    bindings.set(name!, value!.trim());
  }
  return bindings;
}

/**
 * `--dim NAME=SIZE` values (sizes of symbolic input dims for generated inputs): a whole number of at
 * least `minimum`; a later value for the same name wins.
 */
export function parseDimSizes(entries: readonly string[], flag: string, example: string, minimum: 0 | 1 = 1): Record<string, number> {
  const dims: Record<string, number> = {};
  for (const entry of entries) {
    const match = /^([^=]+)=(\d+)$/.exec(entry);
    const size = match ? Number(match[2]) : NaN;
    if (!match || !Number.isSafeInteger(size) || size < minimum) {
      throw new UsageError(`--${flag} takes NAME=SIZE${minimum >= 1 ? ' with a positive size' : ''} (e.g. --${flag} ${example}), got '${entry}'`);
    }
    dims[match[1]!] = size;
  }
  return dims;
}
