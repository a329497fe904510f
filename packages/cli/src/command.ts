import type { ParsedArgs, FlagSpecs } from './args.js';
import type { CliIO } from './cli-io.js';

export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly flags: FlagSpecs;
  /** Returns the exit code. */
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}
