import { resolve } from 'node:path';
import { replayReproducer } from '@modelpass/pass-manager';
import { flagList } from '../args.js';
import type { Command } from '../command.js';
import { environmentWithPlugins } from '../environment.js';
import { UsageError } from '../usage-error.js';

export const replayCommand: Command = {
  name: 'replay',
  usage: 'modelpass replay <reproducer-dir> [--plugin P]...',
  summary:
    'Replay a crash reproducer written by a failing pipeline: parse its input.mpir, load the plugins it names, run its ' +
    'pipeline.txt. Exits 1 with the same error when the failure reproduces, 0 when it no longer does.',
  flags: {
    plugin: { type: 'list', help: 'load a plugin (in addition to those the reproducer names)', valueName: 'P' },
  },
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError('replay takes exactly one reproducer folder');
    const environment = await environmentWithPlugins(flagList(args, 'plugin'), io);
    const result = await replayReproducer(resolve(io.cwd, args.positionals[0]!), { environment, cwd: io.cwd });
    io.stdout(`the failure did not reproduce: '${result.pipeline}' ran to the end`);
    return 0;
  },
};
