import type { ParsedArgs, FlagSpecs } from './args.js';
import type { CliIO } from './cli-io.js';

export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly flags: FlagSpecs;
  /** More help after the options in `--help` (syntax, examples). */
  readonly details?: string;
  /**
   * Exit code for a model, input or internal error (default 1). Commands whose exit code 1 means
   * "the check failed" (`compare`: outputs disagree) use 2, as `diff` and `cmp` do.
   */
  readonly errorExitCode?: number;
  /** Returns the exit code. */
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}
