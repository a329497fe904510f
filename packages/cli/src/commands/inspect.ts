import { flagBoolean, flagString } from '../args.js';
import type { Command } from '../command.js';
import { modelInput } from '../model-files.js';
import { formatSummary, summarizeModel } from '../inspect-model.js';
import { UsageError } from '../usage-error.js';
import { allowReadFlag, readOptions } from '../read-flags.js';

export const inspectCommand: Command = {
  name: 'inspect',
  usage: 'modelpass inspect <model> [--json] [--from FORMAT]',
  summary: 'Summarize a model: op histogram, node and parameter counts, bytes by dtype, inputs and outputs. Weights are not loaded.',
  flags: {
    json: { type: 'boolean', help: 'print JSON (format, nodes, ops, parameters, bytes, inputs, outputs, ...)' },
    from: { type: 'string', help: 'input format (default: by extension)', valueName: 'FORMAT' },
    'allow-read': allowReadFlag,
  },
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError('inspect takes exactly one model file');
    const { path, format } = modelInput(args.positionals[0]!, io, flagString(args, 'from'));
    const model = await format.read(path, readOptions(args, io));
    model.sourcePath = args.positionals[0]!;
    const summary = summarizeModel(model, format.name);
    io.stdout(flagBoolean(args, 'json') ? JSON.stringify(summary, null, 2) : formatSummary(summary));
    return 0;
  },
};
