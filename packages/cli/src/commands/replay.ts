import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPRODUCER_FILES, replayReproducer, reproducerPlugins, type PluginRecord } from '@modelpass/pass-manager';
import { checkRegularFile } from '@modelpass/runtime';
import { flagBoolean, flagList } from '../args.js';
import type { Command } from '../command.js';
import { environmentWithPlugins } from '../environment.js';
import { UsageError } from '../usage-error.js';
import { allowReadFlag, readOptions } from '../read-flags.js';

/** The plugins a reproducer's `plugins.json` names, or undefined when it cannot be read as a list (replay then reports it). */
function recordedPlugins(directory: string): PluginRecord[] | undefined {
  const file = join(directory, REPRODUCER_FILES.plugins);
  if (!existsSync(file)) return [];
  checkRegularFile(file, 'reproducer file');
  try {
    const records = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return Array.isArray(records) ? (records as PluginRecord[]) : undefined;
  } catch {
    return undefined;
  }
}

/** One line of the plugin listing; an entry that is no `{ name, version, … }` object is shown as written. */
function describeRecord(record: unknown, index: number): string {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return `  - [${index}] ${JSON.stringify(record)} (not a plugin record)`;
  const r = record as Partial<PluginRecord>;
  return `  - '${String(r.name)}'@${String(r.version)} from ${String(r.path ?? r.specifier ?? '(passed in code)')}`;
}

export const replayCommand: Command = {
  name: 'replay',
  usage: 'modelpass replay <reproducer-dir> [--allow-plugins] [--allow-files] [--plugin P]... [--allow-read DIR]...',
  summary:
    'Replay a crash reproducer written by a failing pipeline: parse its input.mpir, load the plugins it names, run its ' +
    'pipeline.txt. Exits 1 with the same error when the failure reproduces, 0 when it no longer does. Loading a plugin ' +
    'runs its code, so the plugins of plugins.json are only imported with --allow-plugins (without it they are listed, exit 2); ' +
    'a pipeline.txt whose pass options name files (dataset=, report=, teacher=, checkpoint=) runs only with --allow-files (without it they are listed, exit 1).',
  flags: {
    'allow-plugins': { type: 'boolean', help: 'import the plugins the reproducer names (their code runs)' },
    'allow-files': { type: 'boolean', help: "run a pipeline.txt whose pass options name files to read or write (dataset=, report=, teacher=, checkpoint=)" },
    plugin: { type: 'list', help: 'load a plugin (in addition to those the reproducer names)', valueName: 'P' },
    'allow-read': allowReadFlag,
  },
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError('replay takes exactly one reproducer folder');
    const directory = resolve(io.cwd, args.positionals[0]!);
    // Regular files only: a FIFO planted as input.mpir would block the read forever.
    for (const file of [REPRODUCER_FILES.input, REPRODUCER_FILES.pipeline]) {
      if (existsSync(join(directory, file))) checkRegularFile(join(directory, file), 'reproducer file');
    }
    const recorded = recordedPlugins(directory);
    // A plugins.json that is no list loads nothing: replayReproducer reports it as not a reproducer (exit 1).
    if (recorded !== undefined && recorded.length > 0 && !flagBoolean(args, 'allow-plugins')) {
      io.stderr(
        [
          `modelpass replay: the reproducer names ${recorded.length} plugin${recorded.length === 1 ? '' : 's'}; loading ${recorded.length === 1 ? 'it runs its' : 'them runs their'} code:`,
          ...recorded.map(describeRecord),
          `Nothing was loaded. If you trust ${recorded.length === 1 ? 'it' : 'them'}, run: modelpass replay ${args.positionals[0]} --allow-plugins`,
        ].join('\n'),
      );
      return 2;
    }
    // The folder and every plugins.json record are checked before any plugin file is imported (QA s16: a malformed
    // record, or a folder without input.mpir, was reported only after the plugins' code had run).
    const checked = reproducerPlugins(directory);
    // Recorded plugins go through the CLI's loader (errors name the plugin file); replay skips those already loaded.
    const fromReproducer = checked.map((r) => r.path ?? r.specifier).filter((s): s is string => typeof s === 'string');
    const environment = await environmentWithPlugins([...fromReproducer, ...flagList(args, 'plugin')], io);
    const { allowRead } = readOptions(args, io);
    const allowFiles = flagBoolean(args, 'allow-files');
    const result = await replayReproducer(directory, { environment, cwd: io.cwd, allowFiles, ...(allowRead ? { allowRead } : {}) });
    io.stdout(`the failure did not reproduce: '${result.pipeline}' ran to the end`);
    return 0;
  },
};
