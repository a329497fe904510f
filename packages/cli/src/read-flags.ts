import { resolve } from 'node:path';
import { flagList, type FlagSpec, type ParsedArgs } from './args.js';
import type { CliIO } from './cli-io.js';
import type { ModelReadOptions } from './formats.js';

/**
 * `--allow-read DIR` (repeatable): folders a `.mpir` input (or a reproducer) may read `file(...)`
 * weights from besides its own folder. Without it the CLI falls back to MODELPASS_ALLOW_READ.
 */
export const allowReadFlag: FlagSpec = {
  type: 'list',
  help: 'let a .mpir input read file(...) weights from DIR too (default: only its own folder; repeatable; also MODELPASS_ALLOW_READ)',
  valueName: 'DIR',
};

/** The read options the `--allow-read` flags give, folders resolved against the working directory. */
export function readOptions(args: ParsedArgs, io: CliIO): ModelReadOptions {
  const folders = flagList(args, 'allow-read');
  const onNote = (note: string): void => io.stderr(`modelpass: note: ${note}`);
  return { ...(folders.length > 0 ? { allowRead: folders.map((folder) => resolve(io.cwd, folder)) } : {}), onNote };
}
