import { readFileSync } from 'node:fs';
import { ModelpassError } from '@modelpass/ir';
import { closestName } from '@modelpass/pass-manager';
import { formatHelp, parseArgs } from './args.js';
import { registerFormatReadersForRuntime } from './formats.js';
import { processIO, type CliIO } from './cli-io.js';
import type { Command } from './command.js';
import { escapeForTerminal } from './terminal-text.js';
import { UsageError } from './usage-error.js';

/**
 * Each command's module, imported when that command runs (or its help is asked for): `modelpass convert` does not load
 * batch's, worker's, compare's or eval's modules (and through them @modelpass/distributed and the engines' code). The
 * order is the top-level help's. `commands` (index.ts) is every command, loaded, for library users.
 */
const commandModules: ReadonlyMap<string, () => Promise<Command>> = new Map<string, () => Promise<Command>>([
  ['convert', async () => (await import('./commands/convert.js')).convertCommand],
  ['inspect', async () => (await import('./commands/inspect.js')).inspectCommand],
  ['compare', async () => (await import('./commands/compare.js')).compareCommand],
  ['diff', async () => (await import('./commands/diff.js')).diffCommand],
  ['eval', async () => (await import('./commands/eval.js')).evalCommand],
  ['passes', async () => (await import('./commands/passes.js')).passesCommand],
  ['replay', async () => (await import('./commands/replay.js')).replayCommand],
  ['batch', async () => (await import('./commands/batch.js')).batchCommand],
  ['worker', async () => (await import('./commands/worker.js')).workerCommand],
]);

/** The command named `name`, its module imported; undefined for a name that is no command. */
async function loadCommand(name: string): Promise<Command | undefined> {
  const load = commandModules.get(name);
  return load ? load() : undefined;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function topLevelHelp(): Promise<string> {
  const lines = ['usage: modelpass <command> [options]', '', 'commands:'];
  for (const load of commandModules.values()) {
    const command = await load();
    lines.push(`  ${command.name.padEnd(9)} ${command.summary.split('. ')[0]}`);
  }
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
async function helpFor(name: string, io: CliIO): Promise<number> {
  const command = await loadCommand(name);
  if (command) {
    io.stdout(commandHelp(command));
    return 0;
  }
  const near = closestName(name, [...commandModules.keys()]);
  io.stderr(`modelpass: no help for unknown command '${name}'${near ? ` — did you mean '${near}'?` : ''}\n${await topLevelHelp()}`);
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
    io.stdout(await topLevelHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout(version());
    return 0;
  }
  const command = await loadCommand(name);
  if (!command) {
    const near = closestName(name, [...commandModules.keys()]);
    io.stderr(`modelpass: unknown command '${name}'${near ? ` — did you mean '${near}'?` : ''}\n${await topLevelHelp()}`);
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
