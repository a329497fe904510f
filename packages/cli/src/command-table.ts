import type { Command } from './command.js';
import { batchCommand } from './commands/batch.js';
import { compareCommand } from './commands/compare.js';
import { convertCommand } from './commands/convert.js';
import { diffCommand } from './commands/diff.js';
import { evalCommand } from './commands/eval.js';
import { inspectCommand } from './commands/inspect.js';
import { passesCommand } from './commands/passes.js';
import { replayCommand } from './commands/replay.js';
import { workerCommand } from './commands/worker.js';

/**
 * Every command by name, loaded, in the top-level help's order — for library users (index.ts). The CLI itself (main.ts)
 * imports only the command it runs.
 */
export const commands: ReadonlyMap<string, Command> = new Map(
  [convertCommand, inspectCommand, compareCommand, diffCommand, evalCommand, passesCommand, replayCommand, batchCommand, workerCommand].map((c) => [c.name, c]),
);
