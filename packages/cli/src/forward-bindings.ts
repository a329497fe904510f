/**
 * `--bind NAME=VALUE` (convert, compare, inspect): fixes a TorchScript forward argument that is
 * not a Tensor (`n: int`, `mode: str`) at a value while the archive is read.
 */
import type { FlagSpec } from './args.js';
import { UsageError } from './usage-error.js';

export const bindFlag: FlagSpec = {
  type: 'list',
  help: "TorchScript: fix a non-tensor forward argument (int, float, bool, str) at a value, e.g. --bind k=3 (unbound ones keep their default, with a note)",
  valueName: 'NAME=VALUE',
};

/** `--bind NAME=VALUE`: a number, true/false, or else the text as a str. */
export function parseBindings(items: readonly string[]): Map<string, number | boolean | string> {
  const bindings = new Map<string, number | boolean | string>();
  for (const item of items) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(item);
    if (!match) throw new UsageError(`--bind takes NAME=VALUE (e.g. k=3), got '${item}'`);
    const [, name, text] = match as unknown as [string, string, string];
    if (bindings.has(name)) throw new UsageError(`--bind gives '${name}' twice`);
    const number = text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : undefined;
    bindings.set(name, number ?? (text === 'true' ? true : text === 'false' ? false : text));
  }
  return bindings;
}
