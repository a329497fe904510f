import { readFileSync } from 'node:fs';
import { ModelpassError } from '@modelpass/ir';
import { closestName } from '@modelpass/pass-manager';
import { formatHelp, parseArgs } from './args.js';
import { registerFormatReadersForRuntime } from './formats.js';
import { processIO, type CliIO } from './cli-io.js';
import type { Command } from './command.js';
import { compareCommand } from './commands/compare.js';
import { convertCommand } from './commands/convert.js';
import { diffCommand } from './commands/diff.js';
import { evalCommand } from './commands/eval.js';
import { inspectCommand } from './commands/inspect.js';
import { passesCommand } from './commands/passes.js';
import { replayCommand } from './commands/replay.js';
import { batchCommand } from './commands/batch.js';
import { workerCommand } from './commands/worker.js';
import { escapeForTerminal } from './terminal-text.js';
import { UsageError } from './usage-error.js';

export const commands: ReadonlyMap<string, Command> = new Map(
  [convertCommand, inspectCommand, compareCommand, diffCommand, evalCommand, passesCommand, replayCommand, batchCommand, workerCommand].map((c) => [c.name, c]),
);

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function topLevelHelp(): string {
  const lines = ['usage: modelpass <command> [options]', '', 'commands:'];
  for (const command of commands.values()) lines.push(`  ${command.name.padEnd(9)} ${command.summary.split('. ')[0]}`);
  lines.push('', "Run 'modelpass help <command>' (or 'modelpass <command> --help') for a command's options.", 'Exit codes: 0 success, 1 model or pipeline error, 2 usage error;',
    "compare and eval: 0 the check passed, 1 it failed (outputs disagree, accuracy below --min-accuracy), 2 any error;",
    'diff: 0 the models are the same, 1 they differ, 2 any error.');
  return lines.join('\n');
}

function commandHelp(command: Command): string {
  const help = formatHelp(command.usage, command.summary, command.flags);
  return command.details ? `${help}\n\n${command.details}` : help;
}

/** `modelpass help <command>`: the command's help, like `<command> --help`. */
function helpFor(name: string, io: CliIO): number {
  const command = commands.get(name);
  if (command) {
    io.stdout(commandHelp(command));
    return 0;
  }
  const near = closestName(name, [...commands.keys()]);
  io.stderr(`modelpass: no help for unknown command '${name}'${near ? ` — did you mean '${near}'?` : ''}\n${topLevelHelp()}`);
  return 2;
}

/** The same IO with control characters in everything printed made visible (see terminal-text.ts). */
function terminalSafe(io: CliIO): CliIO {
  return {
    cwd: io.cwd,
    stderrIsTTY: io.stderrIsTTY,
    stdout: (text) => io.stdout(escapeForTerminal(text)),
    stderr: (text) => io.stderr(escapeForTerminal(text)),
    ...(io.stderrStyled ? { stderrStyled: io.stderrStyled } : {}),
    ...(io.stderrProgress ? { stderrProgress: io.stderrProgress } : {}),
    ...(io.stderrColumns ? { stderrColumns: io.stderrColumns } : {}),
  };
}

/**
 * Runs the CLI; returns the exit code (0 success, 1 model/pipeline error, 2 usage error; `compare`
 * and `eval` use 1 for "the check failed" and 2 for any error).
 */
export async function main(argv: readonly string[], rawIO: CliIO = processIO): Promise<number> {
  const io = terminalSafe(rawIO);
  const [name, ...rest] = argv;
  if (name === 'help' && rest.length > 0) return helpFor(rest[0]!, io);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(topLevelHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout(version());
    return 0;
  }
  const command = commands.get(name);
  if (!command) {
    const near = closestName(name, [...commands.keys()]);
    io.stderr(`modelpass: unknown command '${name}'${near ? ` — did you mean '${near}'?` : ''}\n${topLevelHelp()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(commandHelp(command));
    return 0;
  }
  // A model path inside a pass option (distill's teacher) reads every format the command line does.
  registerFormatReadersForRuntime();
  try {
    const args = parseArgs(rest, command.flags, command.name);
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`modelpass ${command.name}: ${error.message}\nusage: ${command.usage}`);
      return 2;
    }
    if (ModelpassError.is(error)) {
      io.stderr(`modelpass: error: ${error.message}`);
      return command.errorExitCode ?? 1;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`modelpass: internal error: ${message}\n  this is a bug in modelpass; please report it with the command you ran`);
    if (process.env['MODELPASS_DEBUG'] && error instanceof Error && error.stack) io.stderr(error.stack);
    return command.errorExitCode ?? 1;
  }
}
